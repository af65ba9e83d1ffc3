/**
 * Decoding of SotW DiscoveryRequests with their resource names shared. A SotW ACK repeats the
 * whole subscription: every sidecar of a shape ACKs an EDS push with the same 1,500 cluster
 * names. Decoding those into fresh strings for each of a thousand ACKs was most of the server's
 * CPU for an endpoint change (and the garbage behind its collections). Here the names' bytes are
 * hashed, and equal bytes get the same frozen array, so a stream can tell an unchanged
 * subscription by identity (Subscription.replace) and a thousand streams hold one copy.
 */
import { createHash } from 'node:crypto';
import { fromBinary } from '@bufbuild/protobuf';
import { DiscoveryRequestSchema, type DiscoveryRequest } from '../../envoy/generated/envoy/service/discovery/v3/discovery_pb.js';

/** DiscoveryRequest.resource_names (field 3, length-delimited): tag byte 3 << 3 | 2. */
const NAMES_TAG = 0x1a;
/** Most distinct name lists kept (one per shape and type, plus churn); the oldest goes first. */
export const MAX_SHARED_NAME_LISTS = 256;
/** Shorter name lists are decoded each time: hashing them would cost as much. */
const MIN_SHARED_BYTES = 256;

const lists = new Map<string, readonly string[]>();

/** Where the top-level fields of `b` numbered 3 lie, [start, end) each; undefined if `b` is not well-formed. */
function nameSpans(b: Uint8Array): number[] | undefined {
  const spans: number[] = [];
  let i = 0;
  const varint = (): number | undefined => {
    let n = 0;
    for (let shift = 0; shift < 35 && i < b.length; shift += 7) {
      const byte = b[i++]!;
      n += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return n;
    }
    return undefined;
  };
  while (i < b.length) {
    const start = i;
    const tag = varint();
    if (tag === undefined) return undefined;
    switch (tag & 7) {
      case 0: if (varint() === undefined) return undefined; break;
      case 1: i += 8; break;
      case 5: i += 4; break;
      case 2: {
        const len = varint();
        if (len === undefined) return undefined;
        i += len;
        if (tag !== NAMES_TAG) break;
        // Consecutive names (the usual encoding) are one span: one hash update, one copy.
        if (spans.length > 0 && spans[spans.length - 1] === start) spans[spans.length - 1] = i;
        else spans.push(start, i);
        break;
      }
      default: return undefined; // groups: not in this message
    }
    if (i > b.length) return undefined;
  }
  return spans;
}

/**
 * fromBinary(DiscoveryRequestSchema, b), except that `resourceNames` is a frozen array shared
 * by every request with the same names (when the list is long enough to be worth it). Malformed
 * input throws as fromBinary does.
 */
export function decodeDiscoveryRequest(b: Uint8Array): DiscoveryRequest {
  const spans = nameSpans(b);
  if (!spans || spans.length === 0) return fromBinary(DiscoveryRequestSchema, b);
  let bytes = 0;
  for (let k = 0; k < spans.length; k += 2) bytes += spans[k + 1]! - spans[k]!;
  if (bytes < MIN_SHARED_BYTES) return fromBinary(DiscoveryRequestSchema, b);
  const hash = createHash('sha256');
  for (let k = 0; k < spans.length; k += 2) hash.update(b.subarray(spans[k]!, spans[k + 1]!));
  const key = hash.digest('base64url');
  const known = lists.get(key);
  if (!known) {
    const req = fromBinary(DiscoveryRequestSchema, b);
    const names = Object.freeze(req.resourceNames);
    if (lists.size >= MAX_SHARED_NAME_LISTS) lists.delete(lists.keys().next().value!);
    lists.set(key, names);
    req.resourceNames = names as string[];
    return req;
  }
  // The rest of the request without its names: the gaps between the spans.
  const parts: Uint8Array[] = [];
  let at = 0;
  for (let k = 0; k < spans.length; k += 2) { parts.push(b.subarray(at, spans[k]!)); at = spans[k + 1]!; }
  parts.push(b.subarray(at));
  const req = fromBinary(DiscoveryRequestSchema, Buffer.concat(parts));
  req.resourceNames = known as string[];
  return req;
}
