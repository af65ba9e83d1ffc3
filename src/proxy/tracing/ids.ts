import { HEX_DIGITS, latin1 } from '../http/h1/chars.js';
import { randomPool, takeRandom } from '../io/random-pool.js';

/*
 * Trace and span ids come from a fast generator seeded from the CSPRNG, as Envoy draws them
 * from a per-thread mt19937_64 (Random::RandomGeneratorImpl::random()): they must not collide,
 * they are not secrets, and every request of a traced listener needs 24 bytes of them.
 * x-request-id UUIDs stay on the CSPRNG, as Envoy's do. xoshiro128** (Blackman and Vigna), on
 * 32-bit integers; each thread seeds its own.
 */
/**
 * The generator's state. In a typed array rather than module variables: a module variable
 * holding an int32 outside the small-integer range (about half of all states) is a
 * heap-allocated number, so each draw allocated.
 */
const S = new Int32Array(4);

function seed(): void {
  while ((S[0]! | S[1]! | S[2]! | S[3]!) === 0) {
    const o = takeRandom(16);
    for (let i = 0; i < 4; i++) S[i] = randomPool.readInt32LE(o + 4 * i);
  }
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/** The next 32 random bits, as an unsigned integer. */
function next32(): number {
  let s0 = S[0]!, s1 = S[1]!, s2 = S[2]!, s3 = S[3]!;
  if ((s0 | s1 | s2 | s3) === 0) {
    seed();
    s0 = S[0]!; s1 = S[1]!; s2 = S[2]!; s3 = S[3]!;
  }
  const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
  const t = s1 << 9;
  s2 ^= s0;
  s3 ^= s1;
  s1 ^= s2;
  s0 ^= s3;
  s2 ^= t;
  s3 = rotl(s3, 11);
  S[0] = s0; S[1] = s1; S[2] = s2; S[3] = s3;
  return r;
}

/** Draws a 32-bit word and writes it as 8 hex digits into `out` at `at`; whether it was not zero. */
function putRandomWord(out: Buffer, at: number): boolean {
  const word = next32();
  for (let k = 28; k >= 0; k -= 4) out[at++] = HEX_DIGITS[(word >>> k) & 15]!;
  return word !== 0;
}

const SCRATCH = Buffer.alloc(16);

/** `words` (1 or 2) random words as hex digits. */
function randomHex(words: number): string {
  for (let i = 0; i < words; i++) putRandomWord(SCRATCH, 8 * i);
  return latin1(SCRATCH, 0, 8 * words);
}

const ZERO16 = '0000000000000000';

/** A new 64-bit span id as 16 lowercase hex digits, never all zero (W3C trace-context §3.2.2.4). */
export function newSpanId(): string {
  let id = randomHex(2);
  while (id === ZERO16) id = randomHex(2);
  return id;
}

/**
 * A new trace id as 32 hex digits. `bits64`: Zipkin without trace_id_128bit, whose ids are 64
 * bits; kept here with a zero upper half so that every id has one shape inside the proxy.
 */
export function newTraceId(bits64 = false): string {
  return bits64 ? ZERO16 + newSpanId() : randomHex(2) + newSpanId();
}

/** True for a 64-bit id stored in the 128-bit shape. */
export function isShortTraceId(traceId: string): boolean {
  return traceId.startsWith(ZERO16);
}

/** Length of a version-00 traceparent: `00-` trace id `-` span id `-` flags. */
const TP_LEN = 55;

/**
 * Writes a traceparent's ids at `at` of `out` (which holds the fixed characters already): new
 * trace and span ids, drawn until neither is all zero (W3C trace-context §3.2.2.3, §3.2.2.4).
 * `bits64`: the trace id's upper half zero (Zipkin without trace_id_128bit).
 */
function putIds(out: Buffer, at: number, bits64: boolean): void {
  // Each word is written as it is drawn, never returned as a number: a draw of 2^30 or more
  // returned from a call can be a heap-allocated number (~16 bytes); the draws showed as ~40
  // bytes per request in the allocation profile.
  let traceSet: boolean;
  let spanSet: boolean;
  do {
    if (bits64) {
      out.fill(0x30, at + 3, at + 19);
      traceSet = false;
    } else {
      traceSet = putRandomWord(out, at + 3);
      traceSet = putRandomWord(out, at + 11) || traceSet;
    }
    traceSet = putRandomWord(out, at + 19) || traceSet;
    traceSet = putRandomWord(out, at + 27) || traceSet;
    spanSet = putRandomWord(out, at + 36);
    spanSet = putRandomWord(out, at + 44) || spanSet;
  } while (!traceSet || !spanSet);
}

/** A traceparent being written one at a time: `00-` trace id `-` span id `-0` flag. */
const TP = Buffer.from('00-00000000000000000000000000000000-0000000000000000-00', 'latin1');

/**
 * Traceparents of new, not sampled traces with 128-bit ids (a new trace at the edge of a mesh,
 * the common case): made BATCH at a time into one buffer and read out as one flat string, of
 * which a request takes a slice. A slice costs no copy and no call out of JavaScript, where
 * reading each header out of a buffer on its own cost a native call per request.
 */
const BATCH = 64;
const BATCH_BUF = Buffer.from(TP.toString('latin1').repeat(BATCH), 'latin1');
let batch = '';
let taken = BATCH;

function refill(): void {
  for (let i = 0; i < BATCH; i++) putIds(BATCH_BUF, i * TP_LEN, false);
  batch = latin1(BATCH_BUF, 0, BATCH * TP_LEN);
  taken = 0;
}

/**
 * A traceparent (W3C trace-context §3.2) for a new trace: new trace and span ids, the sampled
 * flag, as one flat string; the ids are its slices (trace id `[3, 35)`, span id `[36, 52)`),
 * which cost no copy. A request whose caller sent no trace context needs all three. `bits64`:
 * the trace id's upper half zero.
 */
export function newTraceparent(bits64: boolean, sampled: boolean): string {
  if (!bits64 && !sampled) {
    if (taken === BATCH) refill();
    const o = TP_LEN * taken++;
    return batch.slice(o, o + TP_LEN);
  }
  putIds(TP, 0, bits64);
  TP[54] = sampled ? 0x31 : 0x30;
  return latin1(TP, 0, TP_LEN);
}
