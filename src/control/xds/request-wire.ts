/**
 * Decoding of SotW DiscoveryRequests with their resource names shared. A SotW ACK repeats the
 * whole subscription: every sidecar of a shape ACKs an EDS push with the same 1,500 cluster
 * names. Decoding those into fresh strings for each of a thousand ACKs was most of the server's
 * CPU for an endpoint change (and the garbage behind its collections). Here the names' bytes are
 * hashed, and equal bytes get the same frozen array, so a stream can tell an unchanged
 * subscription by identity (Subscription.replace) and a thousand streams hold one copy.
 * A list seen before is recognised by comparing bytes (memcmp), without walking its 1,500 names
 * or hashing them: for 500 SotW ACKs of an EDS push, hashing and walking were ~60 ms of CPU.
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

interface KnownList {
  readonly key: string;
  readonly names: readonly string[];
  /** The list's encoding (consecutive field-3 entries), when it came as one span. */
  readonly bytes: Uint8Array | undefined;
  /** byFirst's key: the list's first entry. */
  readonly first: string | undefined;
}

const lists = new Map<string, KnownList>();
/** Known one-span lists by their first entry's bytes (latin1), the candidates a request is compared with. */
const byFirst = new Map<string, KnownList[]>();

function remember(list: KnownList): void {
  if (lists.size >= MAX_SHARED_NAME_LISTS) {
    const old = lists.values().next().value!;
    lists.delete(old.key);
    if (old.first !== undefined) {
      const rest = byFirst.get(old.first)!.filter((l) => l !== old);
      if (rest.length > 0) byFirst.set(old.first, rest); else byFirst.delete(old.first);
    }
  }
  lists.set(list.key, list);
  if (list.first !== undefined) byFirst.set(list.first, [...byFirst.get(list.first) ?? [], list]);
}

function readVarint(b: Uint8Array, at: number): [value: number, next: number] | undefined {
  let n = 0;
  for (let shift = 0, i = at; shift < 35 && i < b.length; shift += 7) {
    const byte = b[i++]!;
    n += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return [n, i];
  }
  return undefined;
}

/** Where the first field-3 entry of `b` starts and ends, walking only the fields before it. */
function firstEntry(b: Uint8Array): [start: number, end: number] | undefined {
  let i = 0;
  while (i < b.length) {
    const start = i;
    const tag = readVarint(b, i);
    if (!tag) return undefined;
    i = tag[1];
    switch (tag[0] & 7) {
      case 0: { const v = readVarint(b, i); if (!v) return undefined; i = v[1]; break; }
      case 1: i += 8; break;
      case 5: i += 4; break;
      case 2: {
        const len = readVarint(b, i);
        if (!len) return undefined;
        i = len[1] + len[0];
        if (i > b.length) return undefined;
        if (tag[0] === NAMES_TAG) return [start, i];
        break;
      }
      default: return undefined;
    }
  }
  return undefined;
}

/**
 * The request decoded with a known list's names, if its names are exactly that list's bytes in
 * one span: the rest is decoded by fromBinary, and any name outside the span sends the request
 * the long way.
 */
function decodeKnown(b: Uint8Array): DiscoveryRequest | undefined {
  if (byFirst.size === 0) return undefined;
  const entry = firstEntry(b);
  if (!entry) return undefined;
  const candidates = byFirst.get(Buffer.from(b.buffer, b.byteOffset + entry[0], entry[1] - entry[0]).toString('latin1'));
  if (!candidates) return undefined;
  const start = entry[0];
  for (const list of candidates) {
    const end = start + list.bytes!.length;
    if (end > b.length || (end < b.length && b[end] === NAMES_TAG)) continue;
    if (Buffer.compare(Buffer.from(b.buffer, b.byteOffset + start, end - start), list.bytes!) !== 0) continue;
    const req = fromBinary(DiscoveryRequestSchema, Buffer.concat([b.subarray(0, start), b.subarray(end)]));
    if (req.resourceNames.length > 0) return undefined;
    req.resourceNames = list.names as string[];
    return req;
  }
  return undefined;
}

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
  const known = decodeKnown(b);
  if (known) return known;
  const spans = nameSpans(b);
  if (!spans || spans.length === 0) return fromBinary(DiscoveryRequestSchema, b);
  let bytes = 0;
  for (let k = 0; k < spans.length; k += 2) bytes += spans[k + 1]! - spans[k]!;
  if (bytes < MIN_SHARED_BYTES) return fromBinary(DiscoveryRequestSchema, b);
  const hash = createHash('sha256');
  for (let k = 0; k < spans.length; k += 2) hash.update(b.subarray(spans[k]!, spans[k + 1]!));
  const key = hash.digest('base64url');
  const list = lists.get(key);
  if (!list) {
    const req = fromBinary(DiscoveryRequestSchema, b);
    const names = Object.freeze(req.resourceNames);
    // One span (the usual encoding) can be recognised by its bytes next time.
    const one = spans.length === 2 ? new Uint8Array(b.subarray(spans[0]!, spans[1]!)) : undefined;
    const first = one ? firstEntry(one) : undefined;
    remember({ key, names, bytes: one, first: one && first ? Buffer.from(one.buffer, one.byteOffset, first[1]).toString('latin1') : undefined });
    req.resourceNames = names as string[];
    return req;
  }
  // The rest of the request without its names: the gaps between the spans.
  const parts: Uint8Array[] = [];
  let at = 0;
  for (let k = 0; k < spans.length; k += 2) { parts.push(b.subarray(at, spans[k]!)); at = spans[k + 1]!; }
  parts.push(b.subarray(at));
  const req = fromBinary(DiscoveryRequestSchema, Buffer.concat(parts));
  req.resourceNames = list.names as string[];
  return req;
}
