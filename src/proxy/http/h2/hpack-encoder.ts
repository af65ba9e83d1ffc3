/**
 * HPACK encoder (RFC 7541). Keeps a dynamic table in step with the peer's decoder, so a header
 * sent before costs one byte the next time (an indexed field). Policy, as nghttp2's:
 *
 * - fields whose value changes on every message (`:path`, `content-length`, `x-request-id`,
 *   `etag`, `location`, `set-cookie`, ...) are sent without indexing, so they do not push
 *   useful entries out of the table;
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
  'x-request-id', 'x-envoy-original-path', 'traceparent', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid',
]);

/** The encoder's dynamic table, with lookups by (name, value) and by name. */
class EncoderTable extends DynamicTable {
  /** name -> value -> absolute number of the newest entry with both. */
  readonly exact = new Map<string, Map<string, number>>();
  /** name -> absolute number of the newest entry with that name. */
  readonly byName = new Map<string, number>();

  insert(name: string, value: string): void {
    const abs = this.inserted;
    this.add(name, value);
    if (this.indexOfAbsolute(abs) === 0) return; // too big for the table
    let m = this.exact.get(name);
    if (!m) this.exact.set(name, (m = new Map()));
    m.set(value, abs);
    this.byName.set(name, abs);
  }

  protected override evicted(name: string, value: string, abs: number): void {
    const m = this.exact.get(name);
    if (m && m.get(value) === abs) {
      m.delete(value);
      if (m.size === 0) this.exact.delete(name);
    }
    if (this.byName.get(name) === abs) this.byName.delete(name);
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
    const dynValues = table.exact.get(name);
    if (dynValues !== undefined) {
      const abs = dynValues.get(value);
      if (abs !== undefined) {
        const i = table.indexOfAbsolute(abs);
        if (i !== 0) { this.#int(0x80, 7, STATIC_TABLE_LENGTH + i); return; }
      }
    }
    const st = STATIC_EXACT_INDEX.get(name)?.get(value);
    if (st !== undefined) { this.#int(0x80, 7, st); return; }
    let nameIdx = STATIC_NAME_INDEX.get(name) ?? 0;
    if (nameIdx === 0) {
      const abs = table.byName.get(name);
      if (abs !== undefined) {
        const i = table.indexOfAbsolute(abs);
        if (i !== 0) nameIdx = STATIC_TABLE_LENGTH + i;
      }
    }
    if (neverIndexed(name, value)) {
      this.#int(0x10, 4, nameIdx);
    } else if (NOT_INDEXED.has(name) || entrySize(name, value) > (table.maxSize * 3) >> 2) {
      this.#int(0x00, 4, nameIdx);
    } else {
      this.#int(0x40, 6, nameIdx);
      if (nameIdx === 0) this.#string(name);
      this.#string(value);
      table.insert(name, value);
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

/** Credentials (RFC 7541 §7.1.3): never compressed, here or by any intermediary after us. */
function neverIndexed(name: string, value: string): boolean {
  switch (name) {
    case 'authorization':
    case 'proxy-authorization':
      return true;
    case 'cookie':
      return value.length < 20;
    default:
      return false;
  }
}
