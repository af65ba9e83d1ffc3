/**
 * xxHash64 (https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md), the hash Envoy uses
 * for hash policies, ring hash points and Maglev permutations (`HashUtil::xxHash64`).
 * Computed on 32-bit halves (u64.ts); BigInt only at the API boundary.
 */
import { R, add64, joinU64, mul64, rotl64, shr64, splitU64 } from './u64.js';

// The five primes of the spec, as (hi, lo).
const P1H = 0x9e3779b1, P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d, P2L = 0x27d4eb4f;
const P3H = 0x165667b1, P3L = 0x9e3779f9;
const P4H = 0x85ebca77, P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f, P5L = 0x165667c5;

/** Result of xxh64Parts: read before the next call. */
export const HASH_OUT = { hi: 0, lo: 0 };

function readLo(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}

// round(acc, input) = rotl(acc + input * P2, 31) * P1
function round(accH: number, accL: number, inH: number, inL: number): void {
  mul64(inH, inL, P2H, P2L);
  add64(accH, accL, R.hi, R.lo);
  rotl64(R.hi, R.lo, 31);
  mul64(R.hi, R.lo, P1H, P1L);
}

// mergeRound(acc, val) = (acc ^ round(0, val)) * P1 + P4
function mergeRound(accH: number, accL: number, vH: number, vL: number): void {
  round(0, 0, vH, vL);
  mul64((accH ^ R.hi) >>> 0, (accL ^ R.lo) >>> 0, P1H, P1L);
  add64(R.hi, R.lo, P4H, P4L);
}

/** xxHash64 of bytes[0, len) with a 64-bit seed given as halves; result in HASH_OUT. */
export function xxh64Parts(b: Uint8Array, len: number, seedH: number, seedL: number): void {
  let p = 0;
  let hH: number, hL: number;
  if (len >= 32) {
    add64(seedH, seedL, P1H, P1L); add64(R.hi, R.lo, P2H, P2L);
    let v1H = R.hi, v1L = R.lo;
    add64(seedH, seedL, P2H, P2L);
    let v2H = R.hi, v2L = R.lo;
    let v3H = seedH, v3L = seedL;
    add64(seedH, seedL, ~P1H >>> 0, ~P1L >>> 0); add64(R.hi, R.lo, 0, 1); // seed - P1
    let v4H = R.hi, v4L = R.lo;
    const limit = len - 32;
    while (p <= limit) {
      round(v1H, v1L, readLo(b, p + 4), readLo(b, p)); v1H = R.hi; v1L = R.lo;
      round(v2H, v2L, readLo(b, p + 12), readLo(b, p + 8)); v2H = R.hi; v2L = R.lo;
      round(v3H, v3L, readLo(b, p + 20), readLo(b, p + 16)); v3H = R.hi; v3L = R.lo;
      round(v4H, v4L, readLo(b, p + 28), readLo(b, p + 24)); v4H = R.hi; v4L = R.lo;
      p += 32;
    }
    rotl64(v1H, v1L, 1); hH = R.hi; hL = R.lo;
    rotl64(v2H, v2L, 7); add64(hH, hL, R.hi, R.lo); hH = R.hi; hL = R.lo;
    rotl64(v3H, v3L, 12); add64(hH, hL, R.hi, R.lo); hH = R.hi; hL = R.lo;
    rotl64(v4H, v4L, 18); add64(hH, hL, R.hi, R.lo); hH = R.hi; hL = R.lo;
    mergeRound(hH, hL, v1H, v1L); hH = R.hi; hL = R.lo;
    mergeRound(hH, hL, v2H, v2L); hH = R.hi; hL = R.lo;
    mergeRound(hH, hL, v3H, v3L); hH = R.hi; hL = R.lo;
    mergeRound(hH, hL, v4H, v4L); hH = R.hi; hL = R.lo;
  } else {
    add64(seedH, seedL, P5H, P5L); hH = R.hi; hL = R.lo;
  }
  // len < 2^32 for anything we hash, so it fits the low half.
  add64(hH, hL, 0, len >>> 0); hH = R.hi; hL = R.lo;
  while (p + 8 <= len) {
    round(0, 0, readLo(b, p + 4), readLo(b, p));
    hH = (hH ^ R.hi) >>> 0; hL = (hL ^ R.lo) >>> 0;
    rotl64(hH, hL, 27); mul64(R.hi, R.lo, P1H, P1L); add64(R.hi, R.lo, P4H, P4L);
    hH = R.hi; hL = R.lo;
    p += 8;
  }
  if (p + 4 <= len) {
    mul64(0, readLo(b, p), P1H, P1L);
    hH = (hH ^ R.hi) >>> 0; hL = (hL ^ R.lo) >>> 0;
    rotl64(hH, hL, 23); mul64(R.hi, R.lo, P2H, P2L); add64(R.hi, R.lo, P3H, P3L);
    hH = R.hi; hL = R.lo;
    p += 4;
  }
  while (p < len) {
    mul64(0, b[p]!, P5H, P5L);
    hH = (hH ^ R.hi) >>> 0; hL = (hL ^ R.lo) >>> 0;
    rotl64(hH, hL, 11); mul64(R.hi, R.lo, P1H, P1L);
    hH = R.hi; hL = R.lo;
    p++;
  }
  // Avalanche.
  shr64(hH, hL, 33); mul64((hH ^ R.hi) >>> 0, (hL ^ R.lo) >>> 0, P2H, P2L); hH = R.hi; hL = R.lo;
  shr64(hH, hL, 29); mul64((hH ^ R.hi) >>> 0, (hL ^ R.lo) >>> 0, P3H, P3L); hH = R.hi; hL = R.lo;
  shr64(hH, hL, 32);
  HASH_OUT.hi = (hH ^ R.hi) >>> 0;
  HASH_OUT.lo = (hL ^ R.lo) >>> 0;
}

let scratch = new Uint8Array(256);
const utf8 = new TextEncoder();

/**
 * Puts the bytes of `s` into a reused buffer and returns their count. Strings are byte strings
 * here: the HTTP codecs decode wire bytes as latin1 (one char per byte), so a string whose chars
 * are all < 256 is hashed char-for-byte, exactly the bytes Envoy sees. Only a string with a char
 * above U+00FF (which no codec produces) is UTF-8 encoded.
 */
export function stringBytes(s: string): Uint8Array {
  const n = s.length;
  if (scratch.length < n * 3) scratch = new Uint8Array(Math.max(n * 3, scratch.length * 2));
  const b = scratch;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) return b.subarray(0, utf8.encodeInto(s, b).written);
    b[i] = c;
  }
  return b.subarray(0, n);
}

/** xxHash64 of a string's bytes (see stringBytes) into HASH_OUT; seed as halves. */
export function xxh64StringParts(s: string, seedH = 0, seedL = 0): void {
  const b = stringBytes(s);
  xxh64Parts(b, b.length, seedH, seedL);
}

/** xxHash64 of `input` (a byte string, see stringBytes, or raw bytes), seed 0 unless given. */
export function xxHash64(input: string | Uint8Array, seed = 0n): bigint {
  splitU64(seed);
  const sH = R.hi, sL = R.lo;
  if (typeof input === 'string') xxh64StringParts(input, sH, sL);
  else xxh64Parts(input, input.length, sH, sL);
  return joinU64(HASH_OUT.hi, HASH_OUT.lo);
}

/**
 * Envoy's `HashUtil::xxHash64(absl::Span<absl::string_view>, seed)`: each value hashed with the
 * previous result as its seed (used for multi-valued headers).
 */
export function xxHash64Chain(values: readonly string[], seed = 0n): bigint {
  splitU64(seed);
  let sH = R.hi, sL = R.lo;
  for (const v of values) {
    xxh64StringParts(v, sH, sL);
    sH = HASH_OUT.hi; sL = HASH_OUT.lo;
  }
  return joinU64(sH, sL);
}
