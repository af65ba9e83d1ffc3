/**
 * The wire format of Istio's TCP metadata exchange (istio/proxy,
 * source/extensions/filters/network/metadata_exchange): each side of a connection that
 * negotiated ALPN `istio-peer-exchange` first sends one frame, an 8-byte header (magic
 * 0x3D230467, then the payload length, both big-endian) and a serialized google.protobuf.Any
 * holding a google.protobuf.Struct with the sender's node metadata under
 * `x-envoy-peer-metadata` and its node id under `x-envoy-peer-metadata-id`. Pure.
 */
import { fromBinary, fromJson, toBinary, toJson, type JsonObject } from '@bufbuild/protobuf';
import { AnySchema, StructSchema, anyPack, anyUnpack } from '@bufbuild/protobuf/wkt';
import { PEER_METADATA_HEADER, PEER_METADATA_ID_HEADER } from '../../istio-stats/peer.js';

export const EXCHANGE_MAGIC = 0x3d230467;
export const EXCHANGE_HEADER_BYTES = 8;
/**
 * Istio sets no bound; a node's metadata is a few KiB. A larger claimed payload is not buffered
 * (a broken or hostile peer would otherwise make the proxy hold up to 4 GiB): the connection is
 * closed instead.
 */
export const MAX_EXCHANGE_PAYLOAD_BYTES = 1 << 20;

/** What a peer said about itself. */
export interface ExchangedPeer {
  /** Its node id (`sidecar~10.0.0.1~name.ns~ns.svc.cluster.local`), '' when it sent none. */
  readonly id: string;
  /** Its node metadata (Istio's exchange keys: NAME, NAMESPACE, LABELS, ...). */
  readonly metadata: JsonObject;
}

/** The frame a node sends: header, then Any(Struct{x-envoy-peer-metadata, x-envoy-peer-metadata-id}). */
export function encodeExchangeFrame(metadata: JsonObject, id: string): Buffer {
  const body: JsonObject = { [PEER_METADATA_HEADER]: metadata };
  if (id !== '') body[PEER_METADATA_ID_HEADER] = id;
  const payload = toBinary(AnySchema, anyPack(StructSchema, fromJson(StructSchema, body)));
  const frame = Buffer.allocUnsafe(EXCHANGE_HEADER_BYTES + payload.length);
  frame.writeUInt32BE(EXCHANGE_MAGIC, 0);
  frame.writeUInt32BE(payload.length, 4);
  frame.set(payload, EXCHANGE_HEADER_BYTES);
  return frame;
}

/**
 * The peer in a frame's payload; undefined when it is not a serialized Any (never throws). An
 * Any that holds no Struct is a frame with no metadata (Istio then records no peer either).
 */
export function decodeExchangePayload(payload: Uint8Array): ExchangedPeer | undefined {
  let any;
  try {
    any = fromBinary(AnySchema, payload);
  } catch {
    return undefined;
  }
  let json: unknown;
  try {
    const st = any.typeUrl === 'type.googleapis.com/google.protobuf.Struct' ? anyUnpack(any, StructSchema) : undefined;
    json = st ? toJson(StructSchema, st) : {};
  } catch {
    json = {};
  }
  const fields = isObject(json) ? json : {};
  const md = fields[PEER_METADATA_HEADER];
  const id = fields[PEER_METADATA_ID_HEADER];
  return { id: typeof id === 'string' ? id : '', metadata: isObject(md) ? md : {} };
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The outcome of reading the start of a stream:
 * - `more`: not enough bytes yet to decide;
 * - `frame`: a frame was read; `rest` are the stream's bytes after it (never lost); `payload`
 *   the frame's payload, `peer` its meaning (undefined for a payload that is no Any: Istio then
 *   passes it on, so `rest` starts with it);
 * - `absent`: the stream does not start with the magic (a peer without the exchange): `rest` is
 *   everything read, to be passed on untouched;
 * - `oversize`: the header claims more than MAX_EXCHANGE_PAYLOAD_BYTES.
 */
export type ExchangeReadResult =
  | { readonly kind: 'more' }
  | { readonly kind: 'frame'; readonly payload: Buffer; readonly peer: ExchangedPeer | undefined; readonly rest: Buffer }
  | { readonly kind: 'absent'; readonly rest: Buffer }
  | { readonly kind: 'oversize'; readonly claimed: number };

const MORE: ExchangeReadResult = { kind: 'more' };

/** Reads one frame from the start of a stream, chunk by chunk (a frame may span any split). */
export class ExchangeReader {
  #buf: Buffer = Buffer.alloc(0);
  /** Decodes payloads; a cache of peers by payload makes a known peer cost no decoding. */
  constructor(readonly decode: (payload: Buffer) => ExchangedPeer | undefined = decodeExchangePayload) {}

  /** Bytes read and kept so far (for a caller that gives up waiting: they are passed on). */
  get buffered(): Buffer {
    return this.#buf;
  }

  push(chunk: Buffer): ExchangeReadResult {
    const buf = this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    if (buf.length < EXCHANGE_HEADER_BYTES) {
      // Decide early when the bytes so far already differ from the magic.
      for (let i = 0; i < buf.length && i < MAGIC_BYTES.length; i++) if (buf[i] !== MAGIC_BYTES[i]) return { kind: 'absent', rest: buf };
      return MORE;
    }
    if (buf.readUInt32BE(0) !== EXCHANGE_MAGIC) return { kind: 'absent', rest: buf };
    const size = buf.readUInt32BE(4);
    if (size > MAX_EXCHANGE_PAYLOAD_BYTES) return { kind: 'oversize', claimed: size };
    const end = EXCHANGE_HEADER_BYTES + size;
    if (buf.length < end) return MORE;
    const payload = buf.subarray(EXCHANGE_HEADER_BYTES, end);
    const peer = this.decode(payload);
    // A payload that is no Any is passed on, as Istio does (only the header is consumed).
    return { kind: 'frame', payload, peer, rest: peer ? buf.subarray(end) : buf.subarray(EXCHANGE_HEADER_BYTES) };
  }
}

const MAGIC_BYTES = (() => { const b = Buffer.alloc(4); b.writeUInt32BE(EXCHANGE_MAGIC, 0); return b; })();

/**
 * Peers by payload, so that a connection from a peer already seen decodes nothing and yields the
 * same object (the stats edges are keyed by it). Bounded (payloads are peer input): past `max`
 * distinct payloads, or for a payload over `maxKeyBytes` (a node's metadata is a few KiB), it
 * decodes every time.
 */
export class ExchangedPeerCache {
  readonly #byPayload = new Map<string, ExchangedPeer | undefined>();
  constructor(readonly max = 1024, readonly maxKeyBytes = 16 * 1024) {}
  readonly decode = (payload: Buffer): ExchangedPeer | undefined => {
    if (payload.length > this.maxKeyBytes) return decodeExchangePayload(payload);
    const key = payload.toString('latin1');
    if (this.#byPayload.has(key)) return this.#byPayload.get(key);
    const p = decodeExchangePayload(payload);
    if (this.#byPayload.size < this.max) this.#byPayload.set(key, p);
    return p;
  };
}
