/**
 * HPACK decoder (RFC 7541): turns a complete field block into a flat [name, value, ...] list.
 *
 * Decoding errors (bad integers, indices, Huffman, a table size update where it may not be)
 * make decode() return false: the connection's compression state is lost, a connection error
 * of type COMPRESSION_ERROR. Fields that decode fine but break HTTP's rules for bytes in names
 * and values only mark the block `invalid` (a malformed message: a stream error), and a list
 * over the size or count limit only marks it `overflow`; in both cases every field is still
 * decoded, so the dynamic table stays in step with the peer's encoder.
 */
import { DynamicTable, entrySize } from './hpack-dynamic-table.js';
import { huffmanDecode } from './hpack-huffman.js';
import { STATIC_NAMES, STATIC_TABLE_LENGTH, STATIC_VALUES } from './hpack-static-table.js';
import { validNameBytes, validValueBytes } from './field-chars.js';

interface Latin1Slicer { latin1Slice(start: number, end: number): string }

/** buf[s, e) as a latin1 string (Buffer#latin1Slice: no argument juggling). */
function latin1(buf: Buffer, s: number, e: number): string {
  return (buf as unknown as Latin1Slicer).latin1Slice(s, e);
}

const FLAG_INVALID = 1;

export class HpackDecoder {
  readonly #table: DynamicTable;
  /** Our SETTINGS_HEADER_TABLE_SIZE: the most a size update may ask for. */
  readonly #settingMax: number;
  #scratch = Buffer.allocUnsafe(512);
  #buf: Buffer = this.#scratch;
  #pos = 0;
  #end = 0;
  #strInvalid = false;

  /** Decoded list size limit (RFC 9113 §6.5.2: octets of names and values, plus 32 a field). */
  maxListSize = Infinity;
  /** Field count limit. */
  maxFields = Infinity;

  // Results of the last decode().
  /** Entries written to `out` (2 a field; fields past a limit are not written). */
  outLength = 0;
  listSize = 0;
  fieldCount = 0;
  overflow = false;
  invalid = false;
  /** What went wrong, when decode() returned false. */
  error = '';

  constructor(maxTableSize = 4096) {
    this.#table = new DynamicTable(maxTableSize);
    this.#settingMax = maxTableSize;
  }

  get tableSize(): number { return this.#table.size; }
  get tableLength(): number { return this.#table.length; }

  /**
   * Decodes the block buf[start, end) into out[0, outLength) as name, value, ... (until a
   * limit is passed). `out` may be reused between calls: entries past outLength are stale.
   * Returns false on a decoding error (see `error`).
   */
  decode(buf: Buffer, start: number, end: number, out: string[]): boolean {
    this.#buf = buf;
    this.#pos = start;
    this.#end = end;
    this.outLength = 0;
    this.listSize = 0;
    this.fieldCount = 0;
    this.overflow = false;
    this.invalid = false;
    this.error = '';
    const table = this.#table;
    let sizeUpdateAllowed = true;
    while (this.#pos < end) {
      const b = buf[this.#pos]!;
      if (b & 0x80) {
        // Indexed field (§6.1).
        const idx = this.#int(7);
        if (idx <= 0) return this.#fail(idx < 0 ? 'bad integer' : 'index 0');
        if (idx <= STATIC_TABLE_LENGTH) {
          this.#emit(out, STATIC_NAMES[idx - 1]!, STATIC_VALUES[idx - 1]!, false);
        } else {
          const d = idx - STATIC_TABLE_LENGTH;
          if (d > table.length) return this.#fail(`index ${idx} beyond the table`);
          this.#emit(out, table.name(d), table.value(d), (table.flag(d) & FLAG_INVALID) !== 0);
        }
      } else if (b & 0x40) {
        // Literal with incremental indexing (§6.2.1).
        if (!this.#literal(6)) return false;
        table.add(this.#name, this.#value, this.#fieldInvalid ? FLAG_INVALID : 0);
        this.#emit(out, this.#name, this.#value, this.#fieldInvalid);
      } else if (b & 0x20) {
        // Dynamic table size update (§6.3): only at the start of a block (§4.2).
        if (!sizeUpdateAllowed) return this.#fail('table size update after a field');
        const n = this.#int(5);
        if (n < 0 || n > this.#settingMax) return this.#fail(`table size update to ${n} over the limit ${this.#settingMax}`);
        table.setMaxSize(n);
        continue;
      } else {
        // Literal without indexing (§6.2.2) or never indexed (§6.2.3): 4-bit prefix.
        if (!this.#literal(4)) return false;
        this.#emit(out, this.#name, this.#value, this.#fieldInvalid);
      }
      sizeUpdateAllowed = false;
    }
    return true;
  }

  // The literal field just read (#literal): fields rather than an object, so decoding allocates nothing.
  #name = '';
  #nameInvalid = false;
  #value = '';
  #fieldInvalid = false;

  /**
   * A literal field at the cursor (§6.2), whose index has a `prefixBits`-bit prefix: its name,
   * indexed or a string literal, then its value, into #name, #value and #fieldInvalid.
   */
  #literal(prefixBits: number): boolean {
    const idx = this.#int(prefixBits);
    if (idx < 0) return this.#fail('bad integer');
    if (idx === 0) {
      const n = this.#string(true);
      if (n === undefined) return false;
      this.#name = n;
      this.#nameInvalid = this.#strInvalid;
    } else if (!this.#indexedName(idx)) {
      return false;
    }
    const value = this.#string(false);
    if (value === undefined) return false;
    this.#value = value;
    this.#fieldInvalid = this.#nameInvalid || this.#strInvalid;
    return true;
  }

  #indexedName(idx: number): boolean {
    if (idx <= STATIC_TABLE_LENGTH) {
      this.#name = STATIC_NAMES[idx - 1]!;
      this.#nameInvalid = false;
      return true;
    }
    const d = idx - STATIC_TABLE_LENGTH;
    const table = this.#table;
    if (d > table.length) return this.#fail(`index ${idx} beyond the table`);
    this.#name = table.name(d);
    this.#nameInvalid = (table.flag(d) & FLAG_INVALID) !== 0;
    return true;
  }

  #emit(out: string[], name: string, value: string, invalid: boolean): void {
    this.listSize += entrySize(name, value);
    this.fieldCount++;
    if (invalid) this.invalid = true;
    if (this.overflow) return;
    if (this.listSize > this.maxListSize || this.fieldCount > this.maxFields) { this.overflow = true; return; }
    const n = this.outLength;
    out[n] = name;
    out[n + 1] = value;
    this.outLength = n + 2;
  }

  #fail(why: string): false {
    this.error = why;
    return false;
  }

  /** An integer with an N-bit prefix at the cursor (§5.1); -1 when malformed or too large. */
  #int(prefixBits: number): number {
    const buf = this.#buf;
    const max = (1 << prefixBits) - 1;
    let v = buf[this.#pos++]! & max;
    if (v < max) return v;
    let m = 0;
    for (;;) {
      if (this.#pos >= this.#end) return -1;
      const b = buf[this.#pos++]!;
      v += (b & 0x7f) * 2 ** m;
      if ((b & 0x80) === 0) break;
      m += 7;
      if (m > 21) return -1; // more than 2^28: no length or index in a block is that large
    }
    return v;
  }

  /**
   * A string literal at the cursor (§5.2); sets #strInvalid when its bytes are not allowed in
   * a name (`isName`) or value. undefined on a decoding error.
   */
  #string(isName: boolean): string | undefined {
    if (this.#pos >= this.#end) { this.#fail('truncated string'); return undefined; }
    const buf = this.#buf;
    const huffman = (buf[this.#pos]! & 0x80) !== 0;
    const len = this.#int(7);
    if (len < 0 || len > this.#end - this.#pos) { this.#fail('string length beyond the block'); return undefined; }
    const s = this.#pos;
    this.#pos += len;
    if (!huffman) {
      this.#strInvalid = isName ? !validNameBytes(buf, s, s + len) : !validValueBytes(buf, s, s + len);
      return latin1(buf, s, s + len);
    }
    const need = Math.ceil((len * 8) / 5) + 1;
    if (this.#scratch.length < need) this.#scratch = Buffer.allocUnsafe(Math.max(need, this.#scratch.length * 2));
    const out = this.#scratch;
    const n = huffmanDecode(buf, s, s + len, out);
    if (n < 0) { this.#fail('bad Huffman code'); return undefined; }
    this.#strInvalid = isName ? !validNameBytes(out, 0, n) : !validValueBytes(out, 0, n);
    return latin1(out, 0, n);
  }
}
