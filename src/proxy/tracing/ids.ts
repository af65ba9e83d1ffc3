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
 * The generator's state between batches. In a typed array rather than module variables: a
 * module variable holding an int32 outside the small-integer range (about half of all states)
 * is a heap-allocated number.
 */
const S = new Int32Array(4);

function seed(): void {
  while ((S[0]! | S[1]! | S[2]! | S[3]!) === 0) {
    const o = takeRandom(16);
    for (let i = 0; i < 4; i++) S[i] = randomPool.readInt32LE(o + 4 * i);
  }
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/** Writes the 32-bit `word` as 8 lowercase hex digits at `at`. */
function putHexWord(out: Uint8Array, at: number, word: number): void {
  out[at] = HEX_DIGITS[(word >>> 28) & 15]!;
  out[at + 1] = HEX_DIGITS[(word >>> 24) & 15]!;
  out[at + 2] = HEX_DIGITS[(word >>> 20) & 15]!;
  out[at + 3] = HEX_DIGITS[(word >>> 16) & 15]!;
  out[at + 4] = HEX_DIGITS[(word >>> 12) & 15]!;
  out[at + 5] = HEX_DIGITS[(word >>> 8) & 15]!;
  out[at + 6] = HEX_DIGITS[(word >>> 4) & 15]!;
  out[at + 7] = HEX_DIGITS[word & 15]!;
}

/** Length of a version-00 traceparent: `00-` trace id `-` span id `-` flags. */
const TP_LEN = 55;

/**
 * Writes new ids into `count` traceparents laid out back to back in `out` from `at` (their
 * fixed characters already there): in each, a trace id and a span id, drawn until neither is
 * all zero (W3C trace-context §3.2.2.3, §3.2.2.4). `bits64`: trace ids with a zero upper half
 * (Zipkin without trace_id_128bit). The generator runs here with its state in local variables
 * and the hex digits written as drawn: per traceparent about a third of the time of a draw
 * function called per word.
 */
function fillTraceparents(out: Uint8Array, at: number, count: number, bits64: boolean): void {
  let s0 = S[0]!, s1 = S[1]!, s2 = S[2]!, s3 = S[3]!;
  if ((s0 | s1 | s2 | s3) === 0) {
    seed();
    s0 = S[0]!; s1 = S[1]!; s2 = S[2]!; s3 = S[3]!;
  }
  for (let i = 0; i < count; i++) {
    const base = at + i * TP_LEN;
    if (bits64) out.fill(0x30, base + 3, base + 19);
    let trace: number;
    let span: number;
    do {
      trace = 0;
      span = 0;
      // Words 0-3 are the trace id (`00-` before it), 4-5 the span id (after the `-` at 35).
      for (let w = bits64 ? 2 : 0; w < 6; w++) {
        const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
        const t = s1 << 9;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = rotl(s3, 11);
        if (w < 4) trace |= r;
        else span |= r;
        putHexWord(out, base + (w < 4 ? 3 + 8 * w : 4 + 8 * w), r);
      }
    } while (trace === 0 || span === 0);
  }
  S[0] = s0; S[1] = s1; S[2] = s2; S[3] = s3;
}

/** A traceparent being written one at a time: `00-` trace id `-` span id `-0` flag. */
const TP = Buffer.from('00-00000000000000000000000000000000-0000000000000000-00', 'latin1');

/**
 * Traceparents of new, not sampled traces with 128-bit ids (a new trace at the edge of a mesh,
 * the common case), and the source of other new ids: made BATCH at a time into one buffer and
 * read out as one flat string, of which a request takes a slice. A slice of 13 characters or
 * more costs no copy and no call out of JavaScript, where reading each header out of a buffer
 * on its own cost a native call per request.
 */
const BATCH = 64;
const BATCH_BUF = Buffer.from(TP.toString('latin1').repeat(BATCH), 'latin1');
let batch = '';
let taken = BATCH;

/** The next unused traceparent of the batch (not sampled, 128-bit trace id). */
function nextTraceparent(): string {
  if (taken === BATCH) {
    fillTraceparents(BATCH_BUF, 0, BATCH, false);
    batch = latin1(BATCH_BUF, 0, BATCH * TP_LEN);
    taken = 0;
  }
  const o = TP_LEN * taken++;
  return batch.slice(o, o + TP_LEN);
}

const ZERO16 = '0000000000000000';

/** A new 64-bit span id as 16 lowercase hex digits, never all zero (W3C trace-context §3.2.2.4). */
export function newSpanId(): string {
  return nextTraceparent().slice(36, 52);
}

/**
 * A new trace id as 32 hex digits, never all zero. `bits64`: Zipkin without trace_id_128bit,
 * whose ids are 64 bits; kept here with a zero upper half so that every id has one shape
 * inside the proxy.
 */
export function newTraceId(bits64 = false): string {
  return bits64 ? ZERO16 + newSpanId() : nextTraceparent().slice(3, 35);
}

/** True for a 64-bit id stored in the 128-bit shape. */
export function isShortTraceId(traceId: string): boolean {
  return traceId.startsWith(ZERO16);
}

/**
 * A traceparent (W3C trace-context §3.2) for a new trace: new trace and span ids, the sampled
 * flag, as one flat string; the ids are its slices (trace id `[3, 35)`, span id `[36, 52)`),
 * which cost no copy. A request whose caller sent no trace context needs all three. `bits64`:
 * the trace id's upper half zero.
 */
export function newTraceparent(bits64: boolean, sampled: boolean): string {
  if (!bits64 && !sampled) return nextTraceparent();
  fillTraceparents(TP, 0, 1, bits64);
  TP[54] = sampled ? 0x31 : 0x30;
  return latin1(TP, 0, TP_LEN);
}
