import { CR, FIELD_CHAR, HT, SP, TOKEN_LOWER } from './chars.js';

/*
 * The chunk-extension grammar (RFC 9112 §7.1.1) as a byte-at-a-time state machine, so that an
 * extension split across reads needs no buffering:
 *
 *   chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
 *   chunk-ext-val = token / quoted-string
 *
 * Extensions are validated and dropped (nothing uses them); validating matters because
 * parsers that disagree on where a chunk-size line ends are a request-smuggling vector.
 */

/** BWS after the chunk size, before the first ';'. */
export const EXT_BEFORE_SEMI = 0;
/** After ';': BWS, then a name. */
export const EXT_BEFORE_NAME = 1;
const EXT_NAME = 2;
const EXT_AFTER_NAME = 3; // BWS after a name: '=' or ';' must follow
const EXT_BEFORE_VALUE = 4;
const EXT_TOKEN_VALUE = 5;
const EXT_QUOTED = 6;
const EXT_QUOTED_PAIR = 7;
const EXT_AFTER_VALUE_BWS = 8; // BWS after a value: ';' must follow
const EXT_AFTER_QUOTE = 9;
/** The CR ending the chunk-size line was read. */
export const EXT_END = 100;
/** Invalid byte. */
export const EXT_INVALID = -1;

const SEMI = 0x3b;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

function isBws(c: number): boolean {
  return c === SP || c === HT;
}

/** Next state after byte `c` in state `st`; EXT_END at the CR, EXT_INVALID on a bad byte. */
export function chunkExtStep(st: number, c: number): number {
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
