/**
 * Envoy's `MurmurHash::murmurHash2` (ring_hash_lb_config.hash_function MURMUR_HASH_2): the 64-bit
 * MurmurHash2 of libstdc++'s `_Hash_bytes`, so with seed 0xc70f6907 it equals 64-bit
 * `std::hash<std::string>`. Ring points only, built once per ring.
 */
import { add, allocRegisters, load, load64LE, mul, setLow, setWords, shr, store, toBigInt, xor } from './u64.js';
import { stringBytes } from './xxhash64.js';

/** Envoy's `MurmurHash::STD_HASH_SEED`. */
export const STD_HASH_SEED = 0xc70f6907;

const base = allocRegisters(4);
const MUL = base, H = base + 1, D = base + 2, T = base + 3;
setWords(MUL, 0xc6a4a793, 0x5bd1e995);

/** Result of the last murmur2Parts call as [high word, low word]: read it before the next call. */
export const MURMUR_OUT = new Uint32Array(2);

// r = r ^ (r >> 47)
function shiftMix(r: number): void {
  shr(T, r, 47);
  xor(r, r, T);
}

/** MurmurHash2-64 of bytes[0, len) with a seed below 2^32; result in MURMUR_OUT. */
export function murmur2Parts(b: Uint8Array, len: number, seed: number): void {
  const aligned = len & ~7;
  setLow(H, len);
  mul(H, H, MUL);
  setLow(T, seed);
  xor(H, H, T); // hash = seed ^ (len * mul)
  for (let p = 0; p < aligned; p += 8) {
    load64LE(D, b, p);
    mul(D, D, MUL); shiftMix(D); mul(D, D, MUL);
    xor(H, H, D);
    mul(H, H, MUL);
  }
  const rest = len & 7;
  if (rest !== 0) {
    // load_bytes: the trailing bytes as a little-endian integer.
    setLow(D, 0);
    for (let i = rest - 1; i >= 0; i--) {
      setLow(T, 256);
      mul(D, D, T);
      setLow(T, b[aligned + i]!);
      add(D, D, T);
    }
    xor(H, H, D);
    mul(H, H, MUL);
  }
  shiftMix(H);
  mul(H, H, MUL);
  shiftMix(H);
  store(MURMUR_OUT, 0, H);
}

const OUT = allocRegisters(1);

/** MurmurHash2-64 of a byte string (see xxhash64.ts stringBytes), seed STD_HASH_SEED by default. */
export function murmurHash2(input: string, seed = STD_HASH_SEED): bigint {
  const b = stringBytes(input);
  murmur2Parts(b, b.length, seed);
  load(OUT, MURMUR_OUT);
  return toBigInt(OUT);
}
