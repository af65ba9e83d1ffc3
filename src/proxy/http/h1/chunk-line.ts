import { CR, FIELD_CHAR, HEX, HT, LF, SP, TOKEN_LOWER } from './chars.js';
import { badMessage, showByte } from './errors.js';
import { MAX_BODY_LENGTH } from './fields.js';

/*
 * The framing between the data of two chunks (RFC 9112 §7.1), read a byte at a time so that
 * a line split across reads needs no buffering. Chunk extensions follow their grammar
 * (§7.1.1):
 *
 *   chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
 *   chunk-ext-val = token / quoted-string
 *
 * Extensions are validated and dropped (nothing uses them); validating matters because
 * parsers that disagree on where a chunk-size line ends are a request-smuggling vector.
 */

const EXT_BEFORE_SEMI = 0; // BWS after the chunk size, before the first ';'
const EXT_BEFORE_NAME = 1; // after ';': BWS, then a name
const EXT_NAME = 2;
const EXT_AFTER_NAME = 3; // BWS after a name: '=' or ';' must follow
const EXT_BEFORE_VALUE = 4;
const EXT_TOKEN_VALUE = 5;
const EXT_QUOTED = 6;
const EXT_QUOTED_PAIR = 7;
const EXT_AFTER_VALUE_BWS = 8; // BWS after a value: ';' must follow
const EXT_AFTER_QUOTE = 9;
const EXT_END = 100; // the CR ending the chunk-size line
const EXT_INVALID = -1;

const SEMI = 0x3b;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

function isBws(c: number): boolean {
  return c === SP || c === HT;
}

/** Next state after byte `c` in state `st`; EXT_END at the CR, EXT_INVALID on a bad byte. */
function chunkExtStep(st: number, c: number): number {
  switch (st) {
    case EXT_BEFORE_SEMI:
      return c === SEMI ? EXT_BEFORE_NAME : isBws(c) ? st : EXT_INVALID;
    case EXT_BEFORE_NAME:
      return TOKEN_LOWER[c] !== 0 ? EXT_NAME : isBws(c) ? st : EXT_INVALID;
    case EXT_NAME:
      if (TOKEN_LOWER[c] !== 0) return st;
      if (c === CR) return EXT_END;
      if (c === SEMI) return EXT_BEFORE_NAME;
      if (c === EQUALS) return EXT_BEFORE_VALUE;
      return isBws(c) ? EXT_AFTER_NAME : EXT_INVALID;
    case EXT_AFTER_NAME:
      if (c === EQUALS) return EXT_BEFORE_VALUE;
      if (c === SEMI) return EXT_BEFORE_NAME;
      return isBws(c) ? st : EXT_INVALID;
    case EXT_BEFORE_VALUE:
      if (TOKEN_LOWER[c] !== 0) return EXT_TOKEN_VALUE;
      if (c === DQUOTE) return EXT_QUOTED;
      return isBws(c) ? st : EXT_INVALID;
    case EXT_TOKEN_VALUE:
      if (TOKEN_LOWER[c] !== 0) return st;
      if (c === CR) return EXT_END;
      if (c === SEMI) return EXT_BEFORE_NAME;
      return isBws(c) ? EXT_AFTER_VALUE_BWS : EXT_INVALID;
    case EXT_QUOTED:
      // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
      if (c === DQUOTE) return EXT_AFTER_QUOTE;
      if (c === BACKSLASH) return EXT_QUOTED_PAIR;
      return FIELD_CHAR[c] === 1 ? st : EXT_INVALID;
    case EXT_QUOTED_PAIR:
      return FIELD_CHAR[c] === 1 ? EXT_QUOTED : EXT_INVALID;
    case EXT_AFTER_QUOTE:
      if (c === CR) return EXT_END;
      if (c === SEMI) return EXT_BEFORE_NAME;
      return isBws(c) ? EXT_AFTER_VALUE_BWS : EXT_INVALID;
    case EXT_AFTER_VALUE_BWS:
      if (c === SEMI) return EXT_BEFORE_NAME;
      return isBws(c) ? st : EXT_INVALID;
    default:
      return EXT_INVALID;
  }
}

/** Chunk extensions are dropped, but reading them costs CPU: bound them (cf. CVE-2024-22019). */
const MAX_CHUNK_EXT_BYTES = 4096;

const L_DATA_CR = 0; // the CRLF that ends the previous chunk's data
const L_DATA_LF = 1;
const L_SIZE = 2;
const L_EXT = 3;
const L_LF = 4; // the LF ending the chunk-size line
const L_DONE = 5;

/**
 * Reads, byte by byte so that any split between reads is fine, what lies between two chunks'
 * data: the CRLF ending the previous data (if any) and the next chunk-size line,
 * `1*HEXDIG [ chunk-ext ] CRLF` (RFC 9112 §7.1). Throws H1_BAD_CHUNK.
 */
export class ChunkLineReader {
  /** The chunk size, once `done`. 0 is the last chunk: the trailer section follows. */
  size = 0;
  #phase = L_DONE;
  #digits = 0;
  #ext = 0;
  #extLen = 0;

  /** Starts a new line; `afterData`: a previous chunk's data must first be closed by CRLF. */
  start(afterData: boolean): void {
    this.#phase = afterData ? L_DATA_CR : L_SIZE;
    this.size = 0;
    this.#digits = 0;
  }

  get done(): boolean {
    return this.#phase === L_DONE;
  }

  /** Consumes bytes from data[pos] until the line is done or data ends; returns the new pos. */
  read(data: Buffer, pos: number): number {
    const len = data.length;
    while (pos < len) {
      const c = data[pos++]!;
      switch (this.#phase) {
        case L_DATA_CR:
          if (c !== CR) throw badMessage('H1_BAD_CHUNK', `chunk data not followed by CRLF (got ${showByte(c)})`);
          this.#phase = L_DATA_LF;
          break;
        case L_DATA_LF:
          if (c !== LF) throw badMessage('H1_BAD_CHUNK', `chunk data not followed by CRLF (got CR ${showByte(c)})`);
          this.#phase = L_SIZE;
          break;
        case L_SIZE: {
          const v = HEX[c]!;
          if (v >= 0) {
            if (++this.#digits > 16) throw badMessage('H1_BAD_CHUNK', 'chunk size longer than 16 hex digits');
            this.size = this.size * 16 + v;
            if (this.size > MAX_BODY_LENGTH) throw badMessage('H1_BAD_CHUNK', 'chunk size too large');
          } else if (this.#digits === 0) {
            throw badMessage('H1_BAD_CHUNK', `chunk size expected, got ${showByte(c)}`);
          } else if (c === CR) {
            this.#phase = L_LF;
          } else if (c === 0x3b || c === SP || c === HT) {
            this.#phase = L_EXT;
            this.#ext = c === 0x3b ? EXT_BEFORE_NAME : EXT_BEFORE_SEMI;
            this.#extLen = 0;
          } else {
            throw badMessage('H1_BAD_CHUNK', `invalid byte ${showByte(c)} after the chunk size`);
          }
          break;
        }
        case L_EXT: {
          const st = chunkExtStep(this.#ext, c);
          if (st === EXT_END) this.#phase = L_LF;
          else if (st === EXT_INVALID) throw badMessage('H1_BAD_CHUNK', `invalid byte ${showByte(c)} in a chunk extension`);
          else if (++this.#extLen > MAX_CHUNK_EXT_BYTES) throw badMessage('H1_BAD_CHUNK', `chunk extension longer than ${MAX_CHUNK_EXT_BYTES} bytes`);
          this.#ext = st;
          break;
        }
        case L_LF:
          if (c !== LF) throw badMessage('H1_BAD_CHUNK', 'CR not followed by LF after the chunk size');
          this.#phase = L_DONE;
          return pos;
        default:
          return pos - 1;
      }
    }
    return pos;
  }
}
