import { lock, unlock } from './slots.js';

/**
 * A token bucket as Envoy's local rate limiters configure it (`envoy.type.v3.TokenBucket`): it
 * starts full, holds at most `maxTokens`, and gains `tokensPerFill` tokens at the end of every
 * `fillIntervalMs`. Envoy refills on a timer; here the fills that are due are added when the
 * bucket is next used, which gives the same counts without a timer per bucket and per thread.
 */
export interface TokenBucketSpec {
  readonly maxTokens: number;
  readonly tokensPerFill: number;
  readonly fillIntervalMs: number;
}

/**
 * How many whole fill intervals have ended between `lastFillMs` and `nowMs`. A clock that went
 * backwards (Date.now() follows the wall clock) yields none.
 */
export function fillsDue(spec: TokenBucketSpec, lastFillMs: number, nowMs: number): number {
  if (nowMs <= lastFillMs) return 0;
  return Math.floor((nowMs - lastFillMs) / spec.fillIntervalMs);
}

/** The tokens after `fills` fills, capped at maxTokens. */
export function refilled(spec: TokenBucketSpec, tokens: number, fills: number): number {
  return fills === 0 ? tokens : Math.min(spec.maxTokens, tokens + fills * spec.tokensPerFill);
}

/**
 * Envoy's x-ratelimit-reset: whole seconds until the next fill, computed as Envoy does
 * (the interval minus the whole seconds elapsed since the last fill, truncated).
 */
export function secondsToNextFill(spec: TokenBucketSpec, lastFillMs: number, nowMs: number): number {
  const elapsed = nowMs <= lastFillMs ? 0 : (nowMs - lastFillMs) % spec.fillIntervalMs;
  return Math.trunc(spec.fillIntervalMs / 1000 - Math.floor(elapsed / 1000));
}

/** Int32s of memory one bucket needs. */
export const TOKEN_BUCKET_INTS = 4;

// Layout: the lock, then tokens and the last fill time (ms, split in two 32-bit halves because
// Date.now() needs 41 bits), only ever read or written together under the lock.
const LOCK = 0, TOKENS = 1, FILL_LO = 2, FILL_HI = 3;
const TWO_32 = 2 ** 32;

/**
 * A token bucket over 4 Int32s of memory. Over a SharedSlots block it is the instance's bucket:
 * every thread takes from the same tokens, so a bucket of 5 admits 5 requests whatever the
 * number of workers. Over private memory it is a thread's own (a connection's bucket).
 * A zeroed block is an unused bucket; the first use fills it.
 */
export class TokenBucket {
  readonly #lock: Int32Array;
  readonly #u: Uint32Array;

  constructor(readonly spec: TokenBucketSpec, memory: Int32Array = new Int32Array(TOKEN_BUCKET_INTS)) {
    if (memory.length !== TOKEN_BUCKET_INTS) throw new Error(`a token bucket needs ${TOKEN_BUCKET_INTS} ints, got ${memory.length}`);
    this.#lock = memory;
    this.#u = new Uint32Array(memory.buffer, memory.byteOffset, TOKEN_BUCKET_INTS);
  }

  /** Takes one token if there is one (after adding the fills that are due). */
  consume(nowMs: number): boolean {
    const u = this.#u;
    lock(this.#lock, LOCK);
    try {
      let tokens = this.#refill(nowMs);
      if (tokens === 0) return false;
      u[TOKENS] = --tokens;
      return true;
    } finally {
      unlock(this.#lock, LOCK);
    }
  }

  /** Tokens left now (x-ratelimit-remaining). */
  remaining(nowMs: number): number {
    lock(this.#lock, LOCK);
    try {
      return this.#refill(nowMs);
    } finally {
      unlock(this.#lock, LOCK);
    }
  }

  /** Whole seconds until the next fill (x-ratelimit-reset). */
  resetSeconds(nowMs: number): number {
    lock(this.#lock, LOCK);
    try {
      this.#refill(nowMs);
      return secondsToNextFill(this.spec, this.#lastFill(), nowMs);
    } finally {
      unlock(this.#lock, LOCK);
    }
  }

  #lastFill(): number {
    return this.#u[FILL_HI]! * TWO_32 + this.#u[FILL_LO]!;
  }

  /** Under the lock: brings tokens and the last fill time up to `nowMs`; returns the tokens. */
  #refill(nowMs: number): number {
    const u = this.#u;
    const spec = this.spec;
    let last = this.#lastFill();
    if (last === 0) {
      // First use anywhere in the instance: the bucket starts full, as Envoy's does.
      this.#setLastFill(nowMs);
      return (u[TOKENS] = spec.maxTokens);
    }
    if (nowMs < last) {
      // The wall clock went back: restart the interval from now rather than wait it out.
      this.#setLastFill(nowMs);
      return u[TOKENS]!;
    }
    const fills = fillsDue(spec, last, nowMs);
    if (fills === 0) return u[TOKENS]!;
    last += fills * spec.fillIntervalMs;
    this.#setLastFill(last);
    return (u[TOKENS] = refilled(spec, u[TOKENS]!, fills));
  }

  #setLastFill(ms: number): void {
    this.#u[FILL_HI] = Math.floor(ms / TWO_32);
    this.#u[FILL_LO] = ms % TWO_32;
  }
}
