/**
 * HPACK encoder (RFC 7541). Keeps a dynamic table in step with the peer's decoder, so a header
 * sent before costs one byte the next time (an indexed field). Policy, as nghttp2's:
 *
 * - fields whose value changes on every message (`:path`, `content-length`, `etag`,
 *   `location`, `set-cookie`, ...) are sent without indexing, so they do not push useful
 *   entries out of the table; for such fields under long names of their own (`x-request-id`,
 *   trace ids, `x-envoy-upstream-service-time`) the first one is indexed and the later ones
 *   refer to its name;
 * - credentials (`authorization`, `proxy-authorization`, short `cookie` values) are sent as
 *   never-indexed literals (§7.1.3), which intermediaries must not compress either;
 * - anything else is indexed, unless it is bigger than 3/4 of the table;
 * - strings are Huffman coded when that is shorter.
 *
 * Blocks are encoded into a scratch buffer the caller copies out before the next block; blocks
 * must reach the peer in the order they were encoded.
 */
import { DynamicTable, entrySize } from './hpack-dynamic-table.js';
import { huffmanEncode, huffmanEncodedLength } from './hpack-huffman.js';
import { STATIC_EXACT_INDEX, STATIC_NAME_INDEX, STATIC_TABLE_LENGTH, staticStatusIndex } from './hpack-static-table.js';

interface Latin1Writer { latin1Write(s: string, offset: number): number }

const NOT_INDEXED = new Set([
  ':path', 'content-length', 'age', 'etag', 'if-modified-since', 'if-none-match', 'location', 'set-cookie',
  'x-envoy-original-path',
]);
/** Values that differ every time, under names worth having in the table once (they are long). */
const NAME_ONLY = new Set([
  'x-request-id', 'x-envoy-upstream-service-time', 'traceparent', 'tracestate', 'x-b3-traceid', 'x-b3-spanid',
  'x-b3-parentspanid', 'x-amzn-trace-id', 'x-cloud-trace-context',
]);

const INDEX = 0;
const NO_INDEX = 1;
/** Indexed while its name has no entry; after that, sent without indexing under that name. */
const NAME_ONCE = 4;
/** Never indexed when short (cookie); always (authorization). */
const SENSITIVE_SHORT = 2;
const SENSITIVE = 3;

/** What the encoder knows of one field name: one map lookup per field instead of five. */
interface NameInfo {
  /** Lowest static index with this name, or 0. */
  readonly staticIndex: number;
  /** Static entries with this name and a value. */
  readonly staticValues: Map<string, number> | undefined;
  readonly policy: number;
  /** Dynamic entries: value -> absolute number of the newest with it. */
  dynamic: Map<string, number> | undefined;
  /** Absolute number of the newest dynamic entry with this name, or -1. */
  dynamicName: number;
}

/** Names remembered at most; past it, names with nothing in the table are forgotten. */
const MAX_NAMES = 1024;

/** The encoder's dynamic table, with lookups by name (and value). */
class EncoderTable extends DynamicTable {
  readonly names = new Map<string, NameInfo>();

  info(name: string): NameInfo {
    let n = this.names.get(name);
    if (n !== undefined) return n;
    if (this.names.size >= MAX_NAMES) this.#forget();
    const policy = name === 'authorization' || name === 'proxy-authorization' ? SENSITIVE : name === 'cookie' ? SENSITIVE_SHORT
      : NOT_INDEXED.has(name) ? NO_INDEX : NAME_ONLY.has(name) ? NAME_ONCE : INDEX;
    n = { staticIndex: STATIC_NAME_INDEX.get(name) ?? 0, staticValues: STATIC_EXACT_INDEX.get(name), policy, dynamic: undefined, dynamicName: -1 };
    this.names.set(name, n);
    return n;
  }

  insert(info: NameInfo, name: string, value: string): void {
    const abs = this.inserted;
    this.add(name, value);
    if (this.indexOfAbsolute(abs) === 0) return; // too big for the table
    (info.dynamic ??= new Map()).set(value, abs);
    info.dynamicName = abs;
  }

  protected override evicted(name: string, value: string, abs: number): void {
    const n = this.names.get(name);
    if (n === undefined) return;
    const m = n.dynamic;
    if (m !== undefined && m.get(value) === abs) {
      m.delete(value);
      if (m.size === 0) n.dynamic = undefined;
    }
    if (n.dynamicName === abs) n.dynamicName = -1;
  }

  #forget(): void {
    for (const [name, n] of this.names) if (n.dynamic === undefined && n.dynamicName < 0 && n.staticIndex === 0) this.names.delete(name);
  }
}

export class HpackEncoder {
  readonly #table: EncoderTable;
  /** The most this encoder lets its table grow to, whatever the peer allows. */
  readonly #cap: number;
  #pendingMin = -1;
  #pendingFinal = -1;
  #buf = Buffer.allocUnsafe(1024);
  #pos = 0;

  constructor(maxTableSize = 4096) {
    this.#cap = maxTableSize;
    this.#table = new EncoderTable(maxTableSize);
  }

  /** The encoded block so far: buffer[0, length). Valid until the next begin(). */
  get buffer(): Buffer { return this.#buf; }
  get length(): number { return this.#pos; }
  get tableSize(): number { return this.#table.size; }

  /** The peer's SETTINGS_HEADER_TABLE_SIZE: the next block starts with a size update. */
  setPeerMaxTableSize(n: number): void {
    const size = Math.min(n, this.#cap);
    if (this.#pendingFinal < 0 && size === this.#table.maxSize) return;
    this.#pendingMin = this.#pendingMin < 0 ? size : Math.min(this.#pendingMin, size);
    this.#pendingFinal = size;
  }

  /** Starts a block. */
  begin(): void {
    this.#pos = 0;
    if (this.#pendingFinal < 0) return;
    // The smallest size since the last block first, so the peer evicts what we evicted (§4.2).
    if (this.#pendingMin < this.#pendingFinal) this.#sizeUpdate(this.#pendingMin);
    this.#sizeUpdate(this.#pendingFinal);
    this.#pendingMin = this.#pendingFinal = -1;
  }

  #sizeUpdate(n: number): void {
    this.#ensure(8);
    this.#int(0x20, 5, n);
    this.#table.setMaxSize(n);
  }

  /** `:status`: one byte for the codes in the static table. */
  status(code: number): void {
    const idx = staticStatusIndex(code);
    if (idx !== 0) {
      this.#ensure(1);
      this.#buf[this.#pos++] = 0x80 | idx;
      return;
    }
    this.field(':status', String(code));
  }

  /** One field; the name must be lower-case. */
  field(name: string, value: string): void {
    this.#ensure(name.length + value.length + 16);
    const table = this.#table;
    const info = table.info(name);
    const dyn = info.dynamic;
    if (dyn !== undefined) {
      const abs = dyn.get(value);
      if (abs !== undefined) {
        const i = table.indexOfAbsolute(abs);
        if (i !== 0) { this.#int(0x80, 7, STATIC_TABLE_LENGTH + i); return; }
      }
    }
    const st = info.staticValues?.get(value);
    if (st !== undefined) { this.#int(0x80, 7, st); return; }
    let nameIdx = info.staticIndex;
    if (nameIdx === 0 && info.dynamicName >= 0) {
      const i = table.indexOfAbsolute(info.dynamicName);
      if (i !== 0) nameIdx = STATIC_TABLE_LENGTH + i;
    }
    const policy = info.policy;
    if (policy === SENSITIVE || (policy === SENSITIVE_SHORT && value.length < 20)) {
      this.#int(0x10, 4, nameIdx); // never indexed (§6.2.3)
    } else if (policy === NO_INDEX || (policy === NAME_ONCE && nameIdx !== 0) || entrySize(name, value) > (table.maxSize * 3) >> 2) {
      this.#int(0x00, 4, nameIdx); // without indexing (§6.2.2)
    } else {
      this.#int(0x40, 6, nameIdx); // with incremental indexing (§6.2.1)
      if (nameIdx === 0) this.#string(name);
      this.#string(value);
      table.insert(info, name, value);
      return;
    }
    if (nameIdx === 0) this.#string(name);
    this.#string(value);
  }

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#pos + n));
    this.#buf.copy(next, 0, 0, this.#pos);
    this.#buf = next;
  }

  /** An integer with an N-bit prefix (§5.1), the prefix byte's high bits set to `flags`. */
  #int(flags: number, prefixBits: number, v: number): void {
    const buf = this.#buf;
    const max = (1 << prefixBits) - 1;
    if (v < max) { buf[this.#pos++] = flags | v; return; }
    buf[this.#pos++] = flags | max;
    v -= max;
    while (v >= 0x80) {
      buf[this.#pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    buf[this.#pos++] = v;
  }

  /** A string literal (§5.2), Huffman coded when shorter. Latin1: one char per octet. */
  #string(s: string): void {
    const hl = huffmanEncodedLength(s);
    if (hl < s.length) {
      this.#int(0x80, 7, hl);
      this.#pos = huffmanEncode(s, this.#buf, this.#pos);
      return;
    }
    this.#int(0, 7, s.length);
    if (s.length > 0) this.#pos += (this.#buf as unknown as Latin1Writer).latin1Write(s, this.#pos);
  }
}

