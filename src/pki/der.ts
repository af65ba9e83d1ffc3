/*
 * The DER subset of ASN.1 (ITU-T X.690) that X.509 certificates and PKCS#10 requests need.
 * Node 20's crypto signs and parses certificates but cannot build them, so we encode the few
 * types ourselves: definite lengths only, minimal encodings, no BER. Pure.
 */

export const TAG = {
  BOOLEAN: 0x01, INTEGER: 0x02, BIT_STRING: 0x03, OCTET_STRING: 0x04, NULL: 0x05, OID: 0x06,
  UTF8_STRING: 0x0c, PRINTABLE_STRING: 0x13, IA5_STRING: 0x16, UTC_TIME: 0x17, GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30, SET: 0x31,
} as const;

/** A DER element was malformed: `offset` is where in the input. */
export class DerError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`DER at byte ${offset}: ${message}`);
  }
}

function lengthBytes(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return Uint8Array.of(0x80 | out.length, ...out);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** One element: tag byte, length, content. */
export function tlv(tag: number, content: Uint8Array): Uint8Array {
  return concat([Uint8Array.of(tag), lengthBytes(content.length), content]);
}

export const seq = (...items: readonly Uint8Array[]): Uint8Array => tlv(TAG.SEQUENCE, concat(items));

/** A SET OF: DER orders the encoded elements (X.690 11.6). */
export function setOf(...items: readonly Uint8Array[]): Uint8Array {
  const sorted = [...items].sort(compareBytes);
  return tlv(TAG.SET, concat(sorted));
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** A non-negative INTEGER from a bigint or from unsigned big-endian bytes. */
export function integer(v: bigint | Uint8Array): Uint8Array {
  let bytes: number[];
  if (typeof v === 'bigint') {
    if (v < 0n) throw new RangeError('negative INTEGER is not supported');
    bytes = [];
    for (let x = v; x > 0n; x >>= 8n) bytes.unshift(Number(x & 0xffn));
    if (bytes.length === 0) bytes = [0];
  } else {
    let i = 0;
    while (i < v.length - 1 && v[i] === 0) i++;
    bytes = [...v.subarray(i)];
    if (bytes.length === 0) bytes = [0];
  }
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return tlv(TAG.INTEGER, Uint8Array.from(bytes));
}

export function oid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((s) => {
    if (!/^\d+$/.test(s)) throw new RangeError(`bad OID ${dotted}`);
    return BigInt(s);
  });
  if (arcs.length < 2 || arcs[0]! > 2n) throw new RangeError(`bad OID ${dotted}`);
  const out: number[] = [];
  const base128 = (x: bigint): void => {
    const groups: number[] = [Number(x & 0x7fn)];
    for (x >>= 7n; x > 0n; x >>= 7n) groups.unshift(Number(x & 0x7fn) | 0x80);
    out.push(...groups);
  };
  base128(arcs[0]! * 40n + arcs[1]!);
  for (const a of arcs.slice(2)) base128(a);
  return tlv(TAG.OID, Uint8Array.from(out));
}

const text = new TextEncoder();
export const utf8String = (s: string): Uint8Array => tlv(TAG.UTF8_STRING, text.encode(s));
export const ia5String = (s: string): Uint8Array => tlv(TAG.IA5_STRING, text.encode(s));
export const octetString = (b: Uint8Array): Uint8Array => tlv(TAG.OCTET_STRING, b);
export const bitString = (b: Uint8Array): Uint8Array => tlv(TAG.BIT_STRING, concat([Uint8Array.of(0), b]));
export const boolean = (v: boolean): Uint8Array => tlv(TAG.BOOLEAN, Uint8Array.of(v ? 0xff : 0));
export const nul = (): Uint8Array => Uint8Array.of(TAG.NULL, 0);

/** Context-specific tag [n]: constructed (EXPLICIT or a constructed IMPLICIT type) or primitive. */
export const context = (n: number, content: Uint8Array, constructed: boolean): Uint8Array => tlv(0x80 | (constructed ? 0x20 : 0) | n, content);

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; seconds, Zulu. */
export function time(d: Date): Uint8Array {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '');
  const year = d.getUTCFullYear();
  return year < 2050 && year >= 1950 ? tlv(TAG.UTC_TIME, text.encode(`${digits.slice(2)}Z`)) : tlv(TAG.GENERALIZED_TIME, text.encode(`${digits}Z`));
}

/** A decoded element. `raw` is the whole element (header and content), `content` its value. */
export interface DerNode {
  readonly tag: number;
  readonly constructed: boolean;
  readonly content: Uint8Array;
  readonly raw: Uint8Array;
  readonly offset: number;
}

/** Reads one element at `offset` of `buf`; `end` is where the next one starts. */
export function readElement(buf: Uint8Array, offset = 0, base = 0): { node: DerNode; end: number } {
  if (offset + 2 > buf.length) throw new DerError('truncated header', base + offset);
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('high tag numbers are not supported', base + offset);
  let len = buf[offset + 1]!;
  let at = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw new DerError('indefinite length is not DER', base + offset);
    if (n > 4) throw new DerError('length too large', base + offset);
    if (at + n > buf.length) throw new DerError('truncated length', base + offset);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[at + i]!;
    if (len < 0x80 || buf[at] === 0) throw new DerError('length not minimally encoded', base + offset);
    at += n;
  }
  if (at + len > buf.length) throw new DerError(`content of ${len} bytes runs past the end`, base + offset);
  const node: DerNode = { tag, constructed: (tag & 0x20) !== 0, content: buf.subarray(at, at + len), raw: buf.subarray(offset, at + len), offset: base + offset };
  return { node, end: at + len };
}

/** The single element `buf` holds (nothing may follow it). */
export function decode(buf: Uint8Array): DerNode {
  const { node, end } = readElement(buf);
  if (end !== buf.length) throw new DerError(`${buf.length - end} trailing bytes`, end);
  return node;
}

/** The elements inside a constructed element. */
export function children(n: DerNode): DerNode[] {
  if (!n.constructed) throw new DerError(`tag 0x${n.tag.toString(16)} is not constructed`, n.offset);
  const out: DerNode[] = [];
  const contentBase = n.offset + (n.raw.length - n.content.length);
  for (let at = 0; at < n.content.length;) {
    const { node, end } = readElement(n.content, at, contentBase);
    out.push(node);
    at = end;
  }
  return out;
}

/** Asserts the tag of `n`; returns it for chaining. */
export function expect(n: DerNode | undefined, tag: number, what: string): DerNode {
  if (!n) throw new DerError(`${what}: missing`, -1);
  if (n.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, got 0x${n.tag.toString(16)}`, n.offset);
  return n;
}

export function readOid(n: DerNode): string {
  expect(n, TAG.OID, 'OBJECT IDENTIFIER');
  const arcs: bigint[] = [];
  let v = 0n;
  for (let i = 0; i < n.content.length; i++) {
    const b = n.content[i]!;
    v = (v << 7n) | BigInt(b & 0x7f);
    if ((b & 0x80) === 0) { arcs.push(v); v = 0n; } else if (i === n.content.length - 1) throw new DerError('OID ends inside an arc', n.offset);
  }
  if (arcs.length === 0) throw new DerError('empty OID', n.offset);
  const first = arcs[0]!;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}

export function readString(n: DerNode): string {
  if (![TAG.UTF8_STRING, TAG.PRINTABLE_STRING, TAG.IA5_STRING].includes(n.tag as 0x0c)) throw new DerError(`expected a string, got tag 0x${n.tag.toString(16)}`, n.offset);
  return new TextDecoder('utf-8', { fatal: true }).decode(n.content);
}

/** A BIT STRING's bytes (only whole bytes: what keys and signatures are). */
export function readBitString(n: DerNode): Uint8Array {
  expect(n, TAG.BIT_STRING, 'BIT STRING');
  if (n.content.length < 1 || n.content[0] !== 0) throw new DerError('BIT STRING with unused bits', n.offset);
  return n.content.subarray(1);
}

export { concat as concatBytes };
