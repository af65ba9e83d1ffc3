/**
 * Just enough of the DiscoveryResponse / DeltaDiscoveryResponse wire format for a simulated
 * client to ACK: version, nonce, type URL and resource names. The resources' bytes are stepped
 * over (a length skip), never decoded, so the load generator's CPU stays small next to the
 * server's. Field numbers from envoy/service/discovery/v3/discovery.proto.
 */

/** What a SotW client needs of a DiscoveryResponse {version_info 1, resources 2, type_url 4, nonce 5}. */
export interface SotwHead { versionInfo: string; typeUrl: string; nonce: string; resourceNames(): string[] }
/** ... of a DeltaDiscoveryResponse {system_version_info 1, resources 2 (Resource.name 3), type_url 4, nonce 5, removed_resources 6}. */
export interface DeltaHead { typeUrl: string; nonce: string; names: string[]; removed: string[] }

class Reader {
  i = 0;
  constructor(readonly b: Uint8Array) {}
  get more(): boolean { return this.i < this.b.length; }
  varint(): number {
    let v = 0; let s = 0;
    for (;;) {
      if (this.i >= this.b.length) throw new Error('truncated varint');
      const c = this.b[this.i++]!;
      v += (c & 0x7f) * 2 ** s;
      if (c < 0x80) return v;
      s += 7;
    }
  }
  /** The next field: number, and for wire type 2 its bytes (a view, not a copy). */
  field(): { n: number; bytes: Uint8Array | undefined } {
    const tag = this.varint(); const wire = tag & 7;
    if (wire === 2) {
      const len = this.varint();
      if (this.i + len > this.b.length) throw new Error('truncated field');
      const bytes = this.b.subarray(this.i, this.i + len);
      this.i += len;
      return { n: tag >>> 3, bytes };
    }
    if (wire === 0) this.varint(); else if (wire === 1) this.i += 8; else if (wire === 5) this.i += 4; else throw new Error(`wire type ${wire}`);
    return { n: tag >>> 3, bytes: undefined };
  }
}

const text = (b: Uint8Array | undefined): string => (b ? Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8') : '');

/** The resources stay undecoded views; resourceNames() reads each one's name field only. */
export function readSotw(b: Uint8Array): SotwHead {
  const resources: Uint8Array[] = [];
  const out: SotwHead = { versionInfo: '', typeUrl: '', nonce: '', resourceNames: () => resources.map(anyResourceName) };
  for (const r = new Reader(b); r.more;) {
    const { n, bytes } = r.field();
    if (n === 1) out.versionInfo = text(bytes); else if (n === 2 && bytes) resources.push(bytes);
    else if (n === 4) out.typeUrl = text(bytes); else if (n === 5) out.nonce = text(bytes);
  }
  return out;
}

export function readDelta(b: Uint8Array): DeltaHead {
  const out: DeltaHead = { typeUrl: '', nonce: '', names: [], removed: [] };
  for (const r = new Reader(b); r.more;) {
    const { n, bytes } = r.field();
    if (n === 2 && bytes) {
      for (const e = new Reader(bytes); e.more;) { const f = e.field(); if (f.n === 3) out.names.push(text(f.bytes)); }
    } else if (n === 4) out.typeUrl = text(bytes); else if (n === 5) out.nonce = text(bytes); else if (n === 6) out.removed.push(text(bytes));
  }
  return out;
}

/** The resource name (field 1) of the message packed in a serialized google.protobuf.Any {type_url 1, value 2}. */
export function anyResourceName(any: Uint8Array): string {
  for (const r = new Reader(any); r.more;) {
    const { n, bytes } = r.field();
    if (n === 2 && bytes) {
      for (const m = new Reader(bytes); m.more;) { const f = m.field(); if (f.n === 1) return text(f.bytes); }
    }
  }
  return '';
}
