import { randomFillSync } from 'node:crypto';
import { latin1 } from '../http/h1/chars.js';

/** Random bytes drawn in batches, so a span id costs no system call (as request-id.ts does for UUIDs). */
const POOL = 4096;
const pool = Buffer.allocUnsafe(POOL);
let at = POOL;

function randomHex(bytes: number): string {
  if (at + bytes > POOL) { randomFillSync(pool); at = 0; }
  const s = pool.toString('hex', at, at + bytes);
  at += bytes;
  return s;
}

const ZERO16 = '0000000000000000';

/** A new 64-bit span id as 16 lowercase hex digits, never all zero (W3C trace-context §3.2.2.4). */
export function newSpanId(): string {
  let id = randomHex(8);
  while (id === ZERO16) id = randomHex(8);
  return id;
}

/**
 * A new trace id as 32 hex digits. `bits64`: Zipkin without trace_id_128bit, whose ids are 64
 * bits; kept here with a zero upper half so that every id has one shape inside the proxy.
 */
export function newTraceId(bits64 = false): string {
  return bits64 ? ZERO16 + newSpanId() : randomHex(8) + newSpanId();
}

/** True for a 64-bit id stored in the 128-bit shape. */
export function isShortTraceId(traceId: string): boolean {
  return traceId.startsWith(ZERO16);
}

const HEX = Buffer.from('0123456789abcdef', 'latin1');
/** A traceparent being written: `00-` trace id `-` span id `-0` flag. */
const TP = Buffer.from('00-00000000000000000000000000000000-0000000000000000-00', 'latin1');

/**
 * A traceparent (W3C trace-context §3.2) for a new trace: new trace and span ids, the sampled
 * flag. One random draw, hex-encoded into one reused buffer and read out as one flat string;
 * the ids are its slices (trace id `[3, 35)`, span id `[36, 52)`), which cost no copy. A request
 * whose caller sent no trace context needs all three. `bits64`: the trace id's upper half zero.
 */
export function newTraceparent(bits64: boolean, sampled: boolean): string {
  for (;;) {
    if (at + 24 > POOL) { randomFillSync(pool); at = 0; }
    const o = at;
    at += 24;
    // Neither id may be all zero (§3.2.2.3, §3.2.2.4).
    if (isZero(o + 16, 8) || isZero(bits64 ? o + 8 : o, bits64 ? 8 : 16)) continue;
    for (let i = 0; i < 16; i++) {
      const b = bits64 && i < 8 ? 0 : pool[o + i]!;
      TP[3 + 2 * i] = HEX[b >> 4]!;
      TP[4 + 2 * i] = HEX[b & 15]!;
    }
    for (let i = 0; i < 8; i++) {
      const b = pool[o + 16 + i]!;
      TP[36 + 2 * i] = HEX[b >> 4]!;
      TP[37 + 2 * i] = HEX[b & 15]!;
    }
    TP[54] = sampled ? 0x31 : 0x30;
    return latin1(TP, 0, 55);
  }
}

function isZero(from: number, n: number): boolean {
  for (let i = from; i < from + n; i++) if (pool[i] !== 0) return false;
  return true;
}
