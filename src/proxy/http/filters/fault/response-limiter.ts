/**
 * Paces one response body to a rate (Envoy's StreamRateLimiter, which the fault filter's
 * response_rate_limit uses): body chunks are held, and every fill interval as many bytes go on
 * as a token bucket of bytes allows. The bucket holds one second's worth and refills at the
 * rate, but starts with one fill interval's worth, so pacing starts at once rather than after a
 * first second sent in a burst.
 */

/** Envoy's default fill interval for the stream rate limiter. */
export const FILL_INTERVAL_MS = 50;

/** A token bucket of bytes with a continuous refill (Envoy's TokenBucketImpl). */
export interface ByteBucket {
  tokens: number;
  lastMs: number;
}

/**
 * Takes up to `want` bytes' worth of tokens after refilling for the time since the last take;
 * returns how many it got (possibly 0). `rate` is bytes per second, also the bucket's size.
 */
export function takeBytes(b: ByteBucket, want: number, rate: number, nowMs: number): number {
  if (nowMs > b.lastMs) b.tokens = Math.min(rate, b.tokens + ((nowMs - b.lastMs) * rate) / 1000);
  b.lastMs = Math.max(b.lastMs, nowMs);
  const got = Math.min(Math.floor(b.tokens), want);
  b.tokens -= got;
  return got;
}

/** Where paced bytes go, and the limiter's requests to the stream. */
export interface PacedOutput {
  /** Bytes to send on; `endStream` ends the response (no trailers follow). */
  write(chunk: Buffer, endStream: boolean): void;
  /** Everything held has been sent: let the held trailers go. */
  releaseTrailers(): void;
  /** More than the buffer limit is held (true), or it drained below half of it (false). */
  overLimit(over: boolean): void;
}

export class StreamRateLimiter {
  readonly #rate: number;
  readonly #bucket: ByteBucket;
  readonly #chunks: Buffer[] = [];
  #held = 0;
  #sawEnd = false;
  #sawTrailers = false;
  #over = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    kbps: number,
    readonly bufferLimit: number,
    readonly out: PacedOutput,
    readonly now: () => number = () => performance.now(),
    readonly fillIntervalMs = FILL_INTERVAL_MS,
  ) {
    this.#rate = kbps * 1024;
    this.#bucket = { tokens: Math.floor((this.#rate * fillIntervalMs) / 1000), lastMs: now() };
  }

  /** A body chunk (Envoy's writeData): held, then sent as tokens allow. */
  write(chunk: Buffer, endStream: boolean): void {
    // A copy: the codec may reuse the memory of what it hands on.
    if (chunk.length > 0) { this.#chunks.push(Buffer.from(chunk)); this.#held += chunk.length; }
    if (endStream) this.#sawEnd = true;
    if (!this.#over && this.#held > this.bufferLimit) { this.#over = true; this.out.overLimit(true); }
    // Sent from a timer, never from inside the caller's stack (as Envoy's enableTimer(0)).
    this.#timer ??= setTimeout(this.#onTimer, 0);
  }

  /** The response's trailers arrived; true when they must wait for held body bytes. */
  onTrailers(): boolean {
    this.#sawEnd = true;
    this.#sawTrailers = true;
    return this.#held > 0;
  }

  destroy(): void {
    if (this.#timer) { clearTimeout(this.#timer); this.#timer = undefined; }
    this.#chunks.length = 0;
    this.#held = 0;
  }

  #onTimer = (): void => {
    this.#timer = undefined;
    const n = takeBytes(this.#bucket, this.#held, this.#rate, this.now());
    const data = this.#take(n);
    if (this.#held > 0) this.#timer = setTimeout(this.#onTimer, this.fillIntervalMs);
    if (this.#over && this.#held < this.bufferLimit / 2) { this.#over = false; this.out.overLimit(false); }
    const end = this.#sawEnd && this.#held === 0 && !this.#sawTrailers;
    if (data.length > 0 || end) this.out.write(data, end);
    if (this.#held === 0 && this.#sawTrailers) this.out.releaseTrailers();
  };

  /** The first `n` held bytes, as one buffer. */
  #take(n: number): Buffer {
    const chunks = this.#chunks;
    this.#held -= n;
    if (n === 0) return EMPTY;
    const first = chunks[0]!;
    if (first.length === n) { chunks.shift(); return first; }
    if (first.length > n) { chunks[0] = first.subarray(n); return first.subarray(0, n); }
    const parts: Buffer[] = [];
    let left = n;
    while (left > 0) {
      const c = chunks[0]!;
      if (c.length <= left) { parts.push(c); chunks.shift(); left -= c.length; } else { parts.push(c.subarray(0, left)); chunks[0] = c.subarray(left); left = 0; }
    }
    return Buffer.concat(parts, n);
  }
}

const EMPTY = Buffer.alloc(0);
