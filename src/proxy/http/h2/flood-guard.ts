/**
 * Bounds on the work a peer can make a connection do without sending requests that get
 * served (Envoy's and nghttp2's HTTP/2 flood protections, CVE-2019-9512/9514/9515/9518 and
 * CVE-2023-44487 "rapid reset"):
 *
 * - stream resets: streams the peer resets while we work on them, and streams we must reset
 *   because of what the peer sent, draw from a token bucket (nghttp2: burst 1000, 33/s);
 * - PING and SETTINGS frames, which we must answer, draw from another (burst 1000, 100/s);
 * - answers we queue while the peer does not read (the socket is backed up) are counted, at
 *   most 1000 (Envoy's max_outbound_control_frames);
 * - frames with an empty payload that do not end anything, in a row, at most 10 (Envoy: 1);
 * - PRIORITY frames at most 100 per stream opened, WINDOW_UPDATE frames at most 10 per DATA
 *   frame we sent plus 2 per stream (Envoy's defaults).
 *
 * Going over any of them is a connection error of type ENHANCE_YOUR_CALM.
 */

export class TokenBucket {
  #tokens: number;
  #last: number;

  constructor(readonly burst: number, readonly perSecond: number) {
    this.#tokens = burst;
    this.#last = Date.now();
  }

  /** Takes one token; false when there is none. */
  take(): boolean {
    if (this.#tokens >= 1) { this.#tokens--; return true; }
    const now = Date.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) * this.perSecond) / 1000);
    this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens--;
    return true;
  }
}

export interface FloodLimits {
  resetBurst: number;
  resetsPerSecond: number;
  controlBurst: number;
  controlPerSecond: number;
  maxOutboundControlWhileBlocked: number;
  maxConsecutiveEmptyFrames: number;
  priorityPerStream: number;
  windowUpdatesPerDataFrame: number;
}

export const DEFAULT_FLOOD_LIMITS: FloodLimits = {
  resetBurst: 1000,
  resetsPerSecond: 33,
  controlBurst: 1000,
  controlPerSecond: 100,
  maxOutboundControlWhileBlocked: 1000,
  maxConsecutiveEmptyFrames: 10,
  priorityPerStream: 100,
  windowUpdatesPerDataFrame: 10,
};

/** The counters of one connection; each check returns a reason when a limit is passed. */
export class FloodGuard {
  readonly #limits: FloodLimits;
  readonly #resets: TokenBucket;
  readonly #control: TokenBucket;
  #outboundControlWhileBlocked = 0;
  #emptyInARow = 0;
  #priorityFrames = 0;
  #windowUpdates = 0;
  #streamsOpened = 0;
  #dataFramesSent = 0;

  constructor(limits: FloodLimits = DEFAULT_FLOOD_LIMITS) {
    this.#limits = limits;
    this.#resets = new TokenBucket(limits.resetBurst, limits.resetsPerSecond);
    this.#control = new TokenBucket(limits.controlBurst, limits.controlPerSecond);
  }

  streamOpened(): void { this.#streamsOpened++; }
  dataFrameSent(): void { this.#dataFramesSent++; }

  reset(): string | undefined {
    return this.#resets.take() ? undefined : 'too many stream resets';
  }

  control(): string | undefined {
    return this.#control.take() ? undefined : 'too many PING/SETTINGS frames';
  }

  /** An answer (ACK, RST_STREAM) was queued; `blocked`: the peer is not reading. */
  outboundControl(blocked: boolean): string | undefined {
    if (!blocked) return undefined;
    return ++this.#outboundControlWhileBlocked > this.#limits.maxOutboundControlWhileBlocked ? 'too many answers queued for a peer that does not read' : undefined;
  }

  /** The socket drained. */
  unblocked(): void { this.#outboundControlWhileBlocked = 0; }

  /** Every inbound frame: `empty` when it has no payload and ends nothing. */
  frame(empty: boolean): string | undefined {
    if (!empty) { this.#emptyInARow = 0; return undefined; }
    return ++this.#emptyInARow > this.#limits.maxConsecutiveEmptyFrames ? 'too many empty frames' : undefined;
  }

  priority(): string | undefined {
    return ++this.#priorityFrames > this.#limits.priorityPerStream * (1 + this.#streamsOpened) ? 'too many PRIORITY frames' : undefined;
  }

  windowUpdate(): string | undefined {
    const allowed = 100 + 2 * this.#streamsOpened + this.#limits.windowUpdatesPerDataFrame * this.#dataFramesSent;
    return ++this.#windowUpdates > allowed ? 'too many WINDOW_UPDATE frames' : undefined;
  }
}
