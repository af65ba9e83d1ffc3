/**
 * HPACK's Huffman code (RFC 7541 §5.2, Appendix B). The code is canonical, so it is fully
 * given by each symbol's code length; the codes are rebuilt from the lengths at load time.
 * Decoding runs a finite-state machine four bits at a time (two table loads per byte), built
 * once from the code tree, which also tells whether the padding at the end is valid.
 */

/** Code length in bits of symbols 0-255 and of EOS (256). */
const CODE_LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];

const EOS = 256;

/** Code length of each symbol (0-256). */
export const HUFFMAN_LENGTH = Uint8Array.from(CODE_LENGTHS);
/** Code of each symbol (0-256), right-aligned. */
export const HUFFMAN_CODE = new Uint32Array(257);

// Canonical assignment: by length, then by symbol; each code is the previous plus one,
// shifted left when the length grows.
{
  const order = Array.from({ length: 257 }, (_, i) => i).sort((a, b) => CODE_LENGTHS[a]! - CODE_LENGTHS[b]! || a - b);
  let code = 0;
  let len = CODE_LENGTHS[order[0]!]!;
  for (const sym of order) {
    const l = CODE_LENGTHS[sym]!;
    if (l > len) { code *= 2 ** (l - len); len = l; }
    HUFFMAN_CODE[sym] = code;
    code++;
  }
}

/** Bytes the Huffman encoding of `s` (latin1: one char per byte) takes. */
export function huffmanEncodedLength(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += HUFFMAN_LENGTH[s.charCodeAt(i) & 0xff]!;
  return (bits + 7) >>> 3;
}

/** Writes the Huffman encoding of `s` at out[pos]; returns the position after it. */
export function huffmanEncode(s: string, out: Uint8Array, pos: number): number {
  let acc = 0; // pending bits, right-aligned; fewer than 8 between symbols
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) & 0xff;
    let len = HUFFMAN_LENGTH[c]!;
    let code = HUFFMAN_CODE[c]!;
    if (len > 24) {
      // Keep acc within 31 bits: push the high part first.
      const hi = len - 16;
      acc = (acc << hi) | (code >>> 16);
      n += hi;
      while (n >= 8) { n -= 8; out[pos++] = acc >>> n; }
      acc &= (1 << n) - 1;
      code &= 0xffff;
      len = 16;
    }
    acc = (acc << len) | code;
    n += len;
    while (n >= 8) { n -= 8; out[pos++] = acc >>> n; }
    acc &= (1 << n) - 1;
  }
  // Pad with the most significant bits of EOS (all ones).
  if (n > 0) out[pos++] = (acc << (8 - n)) | (0xff >>> n);
  return pos;
}

// --- decoding ---

const SYM = 1 << 16; // this step emits the symbol in bits 8-15
const ACCEPT = 1 << 17; // ending here is valid (only EOS-prefix padding of < 8 bits pending)
const FAIL = 1 << 18; // EOS decoded: an error

/** (state << 4 | nibble) -> next state (bits 0-7) | symbol << 8 | flags. */
const DECODE = new Int32Array(256 * 16);

{
  // The code tree: internal nodes numbered from 0 (the root); children >= 0 are internal nodes,
  // children < 0 are leaves (-1 - symbol).
  const left: number[] = [-1 - 1000];
  const right: number[] = [-1 - 1000];
  const depth: number[] = [0];
  const allOnes: boolean[] = [true];
  const UNSET = -1 - 1000;
  for (let sym = 0; sym <= EOS; sym++) {
    const len = CODE_LENGTHS[sym]!;
    const code = HUFFMAN_CODE[sym]!;
    let node = 0;
    for (let b = len - 1; b >= 0; b--) {
      const bit = Math.floor(code / 2 ** b) & 1;
      const kids = bit ? right : left;
      if (b === 0) { kids[node] = -1 - sym; break; }
      let next = kids[node]!;
      if (next === UNSET) {
        next = left.length;
        left.push(UNSET);
        right.push(UNSET);
        depth.push(depth[node]! + 1);
        allOnes.push(allOnes[node]! && bit === 1);
        kids[node] = next;
      }
      node = next;
    }
  }
  if (left.length !== 256) throw new Error(`hpack huffman: ${left.length} internal nodes`);
  for (let state = 0; state < 256; state++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = state;
      let entry = 0;
      for (let b = 3; b >= 0; b--) {
        const bit = (nibble >> b) & 1;
        const next = bit ? right[node]! : left[node]!;
        if (next < 0) {
          const sym = -1 - next;
          if (sym === EOS) { entry |= FAIL; break; }
          entry |= SYM | (sym << 8);
          node = 0;
        } else {
          node = next;
        }
      }
      if (node === 0 || (allOnes[node] && depth[node]! <= 7)) entry |= ACCEPT;
      DECODE[(state << 4) | nibble] = entry | node;
    }
  }
}

/**
 * Decodes the Huffman string in buf[start, end) into out[0...]; returns the decoded length,
 * or -1 when the input is not a valid encoding (EOS inside, padding longer than 7 bits or
 * not all ones). `out` must hold at least (end - start) * 8 / 5 bytes.
 */
export function huffmanDecode(buf: Uint8Array, start: number, end: number, out: Uint8Array): number {
  let state = 0;
  let accept = ACCEPT;
  let o = 0;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    let e = DECODE[(state << 4) | (b >> 4)]!;
    if (e & FAIL) return -1;
    if (e & SYM) out[o++] = e >> 8;
    e = DECODE[((e & 0xff) << 4) | (b & 15)]!;
    if (e & FAIL) return -1;
    if (e & SYM) out[o++] = e >> 8;
    state = e & 0xff;
    accept = e & ACCEPT;
  }
  return accept ? o : -1;
}
