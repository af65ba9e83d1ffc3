/**
 * Unsigned 64-bit arithmetic on two 32-bit halves (hi, lo), so hashing and picking stay on small
 * integers instead of allocating a BigInt per operation. Each operation leaves its result in `R`.
 */

/** Result register of the last operation: read it before the next call. */
export const R = { hi: 0, lo: 0 };

/** (aHi:aLo + bHi:bLo) mod 2^64 */
export function add64(aHi: number, aLo: number, bHi: number, bLo: number): void {
  const lo = aLo + bLo;
  R.lo = lo >>> 0;
  R.hi = (aHi + bHi + (lo > 0xffffffff ? 1 : 0)) >>> 0;
}

/** (aHi:aLo * bHi:bLo) mod 2^64, by 16-bit limbs so no partial product loses precision. */
export function mul64(aHi: number, aLo: number, bHi: number, bLo: number): void {
  const a48 = aHi >>> 16, a32 = aHi & 0xffff, a16 = aLo >>> 16, a00 = aLo & 0xffff;
  const b48 = bHi >>> 16, b32 = bHi & 0xffff, b16 = bLo >>> 16, b00 = bLo & 0xffff;
  let c00 = a00 * b00;
  let c16 = c00 >>> 16;
  c00 &= 0xffff;
  c16 += a16 * b00;
  let c32 = c16 >>> 16;
  c16 &= 0xffff;
  c16 += a00 * b16;
  c32 += c16 >>> 16;
  c16 &= 0xffff;
  c32 += a32 * b00;
  let c48 = c32 >>> 16;
  c32 &= 0xffff;
  c32 += a16 * b16;
  c48 += c32 >>> 16;
  c32 &= 0xffff;
  c32 += a00 * b32;
  c48 += c32 >>> 16;
  c32 &= 0xffff;
  // Only the low 16 bits of this limb survive; the sum stays below 2^53, so `&` is exact.
  c48 = (c48 + a48 * b00 + a32 * b16 + a16 * b32 + a00 * b48) & 0xffff;
  R.hi = ((c48 << 16) | c32) >>> 0;
  R.lo = ((c16 << 16) | c00) >>> 0;
}

/** Rotate left by n, 0 < n < 32 (every rotation xxHash64 uses is in that range). */
export function rotl64(hi: number, lo: number, n: number): void {
  R.hi = ((hi << n) | (lo >>> (32 - n))) >>> 0;
  R.lo = ((lo << n) | (hi >>> (32 - n))) >>> 0;
}

/** Logical shift right by n, 0 < n < 64. */
export function shr64(hi: number, lo: number, n: number): void {
  if (n >= 32) {
    R.lo = n === 32 ? hi : hi >>> (n - 32);
    R.hi = 0;
  } else {
    R.lo = ((lo >>> n) | (hi << (32 - n))) >>> 0;
    R.hi = hi >>> n;
  }
}

const SPLIT = new DataView(new ArrayBuffer(8));

/**
 * Splits a u64 BigInt into R.hi / R.lo without allocating (setBigUint64 wraps modulo 2^64, as a
 * C++ uint64_t would).
 */
export function splitU64(value: bigint): void {
  SPLIT.setBigUint64(0, value);
  R.hi = SPLIT.getUint32(0);
  R.lo = SPLIT.getUint32(4);
}

/** Joins two halves into a BigInt (allocates; for results handed to callers, not inner loops). */
export function joinU64(hi: number, lo: number): bigint {
  SPLIT.setUint32(0, hi);
  SPLIT.setUint32(4, lo);
  return SPLIT.getBigUint64(0);
}

/** (hi * 2^32 + lo) mod m for 1 <= m < 2^26: every intermediate stays exact in a double. */
export function modU64(hi: number, lo: number, m: number): number {
  const twoTo32ModM = 4294967296 % m;
  return ((hi % m) * twoTo32ModM + lo) % m;
}
