import { randomFillSync } from 'node:crypto';

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

/**
 * A new trace id and span id in one draw: 48 hex digits, the trace id's 32 then the span id's
 * 16 (`bits64`: the trace id's upper half zero). One conversion instead of three: a request
 * whose caller sent no trace context needs both.
 */
export function newTraceAndSpanId(bits64 = false): string {
  let ids = randomHex(24);
  // Neither id may be all zero (W3C trace-context §3.2.2.3, §3.2.2.4).
  while (ids.endsWith(ZERO16) || (bits64 ? ids.slice(16, 32) === ZERO16 : ids.startsWith(ZERO16 + ZERO16))) ids = randomHex(24);
  return bits64 ? ZERO16 + ids.slice(16) : ids;
}

