/**
 * Hand-assembled protobuf encoding of the two response messages, so that the bytes of the
 * resources (identical for every proxy of a shape) are encoded once per push and each stream
 * only adds its version and nonce. Field numbers from envoy/service/discovery/v3/discovery.proto;
 * protobuf parsers accept fields in any order.
 */
import type { VersionedResource } from './snapshot.js';
import { FramedMessage } from './framed.js';

const utf8 = new TextEncoder();

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) { out.push((n & 0x7f) | 0x80); n = Math.floor(n / 128); }
  out.push(n);
  return out;
}

/** Field `field` (wire type 2) holding `payload`: tag, length, bytes. */
export function lengthDelimited(field: number, payload: Uint8Array): Uint8Array {
  const head = [...varint((field << 3) | 2), ...varint(payload.length)];
  const out = new Uint8Array(head.length + payload.length);
  out.set(head, 0);
  out.set(payload, head.length);
  return out;
}

function str(field: number, s: string): Uint8Array {
  return s === '' ? new Uint8Array(0) : lengthDelimited(field, utf8.encode(s));
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

/** google.protobuf.Any {type_url = 1, value = 2}. */
export function anyBytes(typeUrl: string, value: Uint8Array): Uint8Array {
  return concat([str(1, typeUrl), lengthDelimited(2, value)]);
}

/** DiscoveryResponse.resources (field 2) entries for `resources`: shareable between streams. */
export function sotwResourcesField(resources: readonly VersionedResource[]): Uint8Array {
  return concat(resources.map((r) => lengthDelimited(2, r.anyBytes)));
}

/**
 * DiscoveryResponse {version_info = 1, resources = 2, type_url = 4, nonce = 5}. Responses are
 * built in their gRPC frame (FramedMessage), to be written as they are to every stream.
 */
export function sotwResponse(version: string, typeUrl: string, nonce: string, resourcesField: Uint8Array): Uint8Array {
  return FramedMessage.concat([str(1, version), resourcesField, str(4, typeUrl), str(5, nonce)]);
}

const deltaEntries = new WeakMap<VersionedResource, Uint8Array>();

/** DeltaDiscoveryResponse.resources (field 2) entry: Resource {version = 1, resource = 2, name = 3}. */
export function deltaResourceEntry(r: VersionedResource): Uint8Array {
  let e = deltaEntries.get(r);
  if (!e) {
    e = lengthDelimited(2, concat([str(1, r.version), lengthDelimited(2, r.anyBytes), str(3, r.name)]));
    deltaEntries.set(r, e);
  }
  return e;
}

/** DeltaDiscoveryResponse {system_version_info = 1, resources = 2, type_url = 4, nonce = 5, removed_resources = 6}. */
export function deltaResponse(systemVersion: string, typeUrl: string, nonce: string, resources: readonly VersionedResource[], removed: readonly string[]): Uint8Array {
  return FramedMessage.concat([
    str(1, systemVersion), ...resources.map(deltaResourceEntry), str(4, typeUrl), str(5, nonce),
    ...removed.map((n) => lengthDelimited(6, utf8.encode(n))),
  ]);
}
