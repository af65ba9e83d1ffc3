import type net from 'node:net';

/**
 * How long a connection has been silent, sampled by one interval per connection instead of a
 * socket timeout (which Node re-arms on every read and write): each tick that saw no bytes
 * either way adds `tickMs`, one that saw traffic (or found the connection busy) starts over.
 * With ticks of a quarter of a timeout, the timeout fires between its limit and 1.25 × it.
 */
export class SilenceMeter {
  #seen = -1;
  #quietMs = 0;

  constructor(readonly tickMs: number) {}

  /** Calls `onTick` every tickMs (whole ms, at least 1); undefined when the tick is Infinity (no timeout). */
  every(onTick: () => void): NodeJS.Timeout | undefined {
    return this.tickMs === Infinity ? undefined : setInterval(onTick, Math.max(1, Math.floor(this.tickMs)));
  }

  /** Called on each tick: the silence so far in ms, 0 when this tick saw traffic or `busy`. */
  tick(socket: net.Socket, busy = false): number {
    const seen = socket.bytesRead + socket.bytesWritten;
    if (busy || seen !== this.#seen) {
      this.#seen = seen;
      this.#quietMs = 0;
      return 0;
    }
    this.#quietMs += this.tickMs;
    return this.#quietMs;
  }
}
