/**
 * Unsigned 64-bit arithmetic without BigInt, for hashing and picking on the request path.
 *
 * Values live in a register file of 32-bit words: register r is the pair (W[2r] high word,
 * W[2r + 1] low word). Operations take register numbers, so no 64-bit value ever crosses a call
 * boundary as a JS number (a word above 2^30 would be boxed there): nothing is allocated, whether
 * or not the engine inlines the calls. Typed-array stores also do the mod 2^32 wrap-around.
 */

/** The register file. */
export const W = new Uint32Array(128);
let nextRegister = 0;

/** Reserves `n` consecutive registers for a module's own use; returns the first. */
export function allocRegisters(n: number): number {
  const base = nextRegister;
  nextRegister += n;
  if (nextRegister * 2 > W.length) throw new Error('u64: out of registers');
  return base;
}

/** r = hi:lo (for constants; words given as numbers). */
export function setWords(r: number, hi: number, lo: number): void {
  W[2 * r] = hi;
  W[2 * r + 1] = lo;
}

/** r = v, for 0 <= v < 2^32. */
export function setLow(r: number, v: number): void {
  W[2 * r] = 0;
  W[2 * r + 1] = v;
}

export function copy(d: number, a: number): void {
  W[2 * d] = W[2 * a]!;
  W[2 * d + 1] = W[2 * a + 1]!;
}

/** r = words[at] : words[at + 1] */
export function load(r: number, words: Uint32Array, at = 0): void {
  W[2 * r] = words[at]!;
  W[2 * r + 1] = words[at + 1]!;
}

/** words[at] : words[at + 1] = r */
export function store(words: Uint32Array, at: number, r: number): void {
  words[at] = W[2 * r]!;
  words[at + 1] = W[2 * r + 1]!;
}

/** r = little-endian u64 at bytes[p, p + 8). */
export function load64LE(r: number, b: Uint8Array, p: number): void {
  W[2 * r + 1] = b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24);
  W[2 * r] = b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16) | (b[p + 7]! << 24);
}

/** r = little-endian u32 at bytes[p, p + 4). */
export function load32LE(r: number, b: Uint8Array, p: number): void {
  W[2 * r] = 0;
  W[2 * r + 1] = b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24);
}

/** d = a + b mod 2^64 */
export function add(d: number, a: number, b: number): void {
  const lo = W[2 * a + 1]! + W[2 * b + 1]!;
  W[2 * d] = W[2 * a]! + W[2 * b]! + (lo > 0xffffffff ? 1 : 0);
  W[2 * d + 1] = lo;
}

/** d = a - b mod 2^64 */
export function sub(d: number, a: number, b: number): void {
  const lo = W[2 * a + 1]! - W[2 * b + 1]!;
  W[2 * d] = W[2 * a]! - W[2 * b]! - (lo < 0 ? 1 : 0);
  W[2 * d + 1] = lo;
}

/**
 * d = a * b mod 2^64. The low word and the cross terms come from Math.imul (exact mod 2^32); only
 * the high word of lo(a) * lo(b) needs 16-bit limbs, whose partial sums stay below 2^33.
 */
export function mul(d: number, a: number, b: number): void {
  const ah = W[2 * a]!, al = W[2 * a + 1]!, bh = W[2 * b]!, bl = W[2 * b + 1]!;
  const a0 = al & 0xffff, a1 = al >>> 16, b0 = bl & 0xffff, b1 = bl >>> 16;
  const t = a0 * b0;
  const m1 = a1 * b0 + (t >>> 16);
  const m2 = a0 * b1 + (m1 & 0xffff);
  const carry = a1 * b1 + Math.floor(m1 / 65536) + Math.floor(m2 / 65536);
  W[2 * d] = carry + Math.imul(al, bh) + Math.imul(ah, bl);
  W[2 * d + 1] = Math.imul(al, bl);
}

/** d = a ^ b */
export function xor(d: number, a: number, b: number): void {
  W[2 * d] = W[2 * a]! ^ W[2 * b]!;
  W[2 * d + 1] = W[2 * a + 1]! ^ W[2 * b + 1]!;
}

/** d = rotate a left by n, 0 < n < 32 (every rotation used here is in that range). */
export function rotl(d: number, a: number, n: number): void {
  const hi = W[2 * a]!, lo = W[2 * a + 1]!;
  W[2 * d] = (hi << n) | (lo >>> (32 - n));
  W[2 * d + 1] = (lo << n) | (hi >>> (32 - n));
}

/** d = a >> n (logical), 0 < n < 64. */
export function shr(d: number, a: number, n: number): void {
  const hi = W[2 * a]!, lo = W[2 * a + 1]!;
  if (n >= 32) {
    W[2 * d + 1] = n === 32 ? hi : hi >>> (n - 32);
    W[2 * d] = 0;
  } else {
    W[2 * d + 1] = (lo >>> n) | (hi << (32 - n));
    W[2 * d] = hi >>> n;
  }
}

/** a mod m for 1 <= m < 2^26: every intermediate stays exact in a double. */
export function mod(a: number, m: number): number {
  return ((W[2 * a]! % m) * (4294967296 % m) + W[2 * a + 1]!) % m;
}

const SPLIT = new DataView(new ArrayBuffer(8));

/** r = value mod 2^64 (as a C++ uint64_t would wrap), without allocating. */
export function fromBigInt(r: number, value: bigint): void {
  SPLIT.setBigUint64(0, value);
  W[2 * r] = SPLIT.getUint32(0);
  W[2 * r + 1] = SPLIT.getUint32(4);
}

/** Register r as a BigInt (allocates: for results handed to callers, not inner loops). */
export function toBigInt(r: number): bigint {
  SPLIT.setUint32(0, W[2 * r]!);
  SPLIT.setUint32(4, W[2 * r + 1]!);
  return SPLIT.getBigUint64(0);
}
