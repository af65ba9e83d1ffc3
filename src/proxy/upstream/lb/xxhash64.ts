/**
 * xxHash64 (https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md), the hash Envoy uses
 * for hash policies, ring hash points and Maglev permutations (`HashUtil::xxHash64`).
 * Computed on 32-bit halves (u64.ts); BigInt only at the API boundary.
 */
import { add, allocRegisters, copy, fromBigInt, load, load32LE, load64LE, mul, rotl, setLow, setWords, shr, store, sub, toBigInt, xor } from './u64.js';

// Registers: the five primes of the spec, the four lane accumulators, the hash, scratch, seed.
const base = allocRegisters(13);
const P1 = base, P2 = base + 1, P3 = base + 2, P4 = base + 3, P5 = base + 4;
const V1 = base + 5, V2 = base + 6, V3 = base + 7, V4 = base + 8;
const H = base + 9, K = base + 10, T = base + 11, SEED = base + 12;
setWords(P1, 0x9e3779b1, 0x85ebca87);
setWords(P2, 0xc2b2ae3d, 0x27d4eb4f);
setWords(P3, 0x165667b1, 0x9e3779f9);
setWords(P4, 0x85ebca77, 0xc2b2ae63);
setWords(P5, 0x27d4eb2f, 0x165667c5);

/** Result of the last xxh64Parts call as [high word, low word]: read it before the next call. */
export const HASH_OUT = new Uint32Array(2);
/** Seed 0, as [high word, low word]. */
export const SEED_ZERO = new Uint32Array(2);

// acc = rotl(acc + input * P2, 31) * P1
function round(acc: number, input: number): void {
  mul(T, input, P2);
  add(acc, acc, T);
  rotl(acc, acc, 31);
  mul(acc, acc, P1);
}

// acc = (acc ^ round(0, val)) * P1 + P4
function mergeRound(acc: number, val: number): void {
  setLow(K, 0);
  round(K, val);
  xor(acc, acc, K);
  mul(acc, acc, P1);
  add(acc, acc, P4);
}

/**
 * xxHash64 of bytes[0, len) with seed [high, low] (HASH_OUT itself may be passed, to chain);
 * the result goes to HASH_OUT.
 */
export function xxh64Parts(b: Uint8Array, len: number, seed: Uint32Array = SEED_ZERO): void {
  load(SEED, seed);
  let p = 0;
  if (len >= 32) {
    add(V1, SEED, P1); add(V1, V1, P2);
    add(V2, SEED, P2);
    copy(V3, SEED);
    sub(V4, SEED, P1);
    const limit = len - 32;
    while (p <= limit) {
      load64LE(K, b, p); round(V1, K);
      load64LE(K, b, p + 8); round(V2, K);
      load64LE(K, b, p + 16); round(V3, K);
      load64LE(K, b, p + 24); round(V4, K);
      p += 32;
    }
    rotl(H, V1, 1);
    rotl(T, V2, 7); add(H, H, T);
    rotl(T, V3, 12); add(H, H, T);
    rotl(T, V4, 18); add(H, H, T);
    mergeRound(H, V1);
    mergeRound(H, V2);
    mergeRound(H, V3);
    mergeRound(H, V4);
  } else {
    add(H, SEED, P5);
  }
  setLow(T, len);
  add(H, H, T);
  while (p + 8 <= len) {
    load64LE(K, b, p);
    mul(K, K, P2); rotl(K, K, 31); mul(K, K, P1); // round(0, k)
    xor(H, H, K);
    rotl(H, H, 27); mul(H, H, P1); add(H, H, P4);
    p += 8;
  }
  if (p + 4 <= len) {
    load32LE(K, b, p);
    mul(K, K, P1);
    xor(H, H, K);
    rotl(H, H, 23); mul(H, H, P2); add(H, H, P3);
    p += 4;
  }
  while (p < len) {
    setLow(K, b[p]!);
    mul(K, K, P5);
    xor(H, H, K);
    rotl(H, H, 11); mul(H, H, P1);
    p++;
  }
  // Avalanche.
  shr(T, H, 33); xor(H, H, T); mul(H, H, P2);
  shr(T, H, 29); xor(H, H, T); mul(H, H, P3);
  shr(T, H, 32); xor(H, H, T);
  store(HASH_OUT, 0, H);
}

let scratch = new Uint8Array(256);
const utf8 = new TextEncoder();

/**
 * The bytes of `s`, in a reused buffer valid until the next call. Strings are byte strings
 * here: the HTTP codecs decode wire bytes as latin1 (one char per byte), so a string whose chars
 * are all < 256 is hashed char-for-byte, exactly the bytes Envoy sees. Only a string with a char
 * above U+00FF (which no codec produces) is UTF-8 encoded.
 */
export function stringBytes(s: string): Uint8Array {
  const n = encode(s); // may replace scratch with a larger buffer
  return scratch.subarray(0, n);
}

/** Writes the bytes of `s` (see stringBytes) to `scratch`; returns their count. */
function encode(s: string): number {
  const n = s.length;
  if (scratch.length < n * 3) scratch = new Uint8Array(Math.max(n * 3, scratch.length * 2));
  const b = scratch;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) return utf8.encodeInto(s, b).written;
    b[i] = c;
  }
  return n;
}

/** xxHash64 of a string's bytes (see stringBytes) into HASH_OUT; allocation-free. */
export function xxh64StringParts(s: string, seed: Uint32Array = SEED_ZERO): void {
  const n = encode(s); // before reading scratch: it may grow
  xxh64Parts(scratch, n, seed);
}

const seedWords = new Uint32Array(2);
const OUT = allocRegisters(1);

function seedFrom(seed: bigint): Uint32Array {
  fromBigInt(OUT, seed);
  store(seedWords, 0, OUT);
  return seedWords;
}

function result(): bigint {
  load(OUT, HASH_OUT);
  return toBigInt(OUT);
}

/** xxHash64 of `input` (a byte string, see stringBytes, or raw bytes), seed 0 unless given. */
export function xxHash64(input: string | Uint8Array, seed = 0n): bigint {
  const s = seedFrom(seed);
  if (typeof input === 'string') xxh64StringParts(input, s);
  else xxh64Parts(input, input.length, s);
  return result();
}

/**
 * Envoy's `HashUtil::xxHash64(absl::Span<absl::string_view>, seed)`: each value hashed with the
 * previous result as its seed (used for multi-valued headers).
 */
export function xxHash64Chain(values: readonly string[], seed = 0n): bigint {
  HASH_OUT.set(seedFrom(seed));
  for (const v of values) xxh64StringParts(v, HASH_OUT);
  return result();
}
