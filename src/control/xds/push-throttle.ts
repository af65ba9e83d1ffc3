/**
 * Bounds how many streams have push responses in flight (written, not yet flushed to their
 * sockets), like istiod's PILOT_PUSH_THROTTLE. Without it a push to N proxies buffers N
 * responses at once (N × the size of a route table) before the first socket drains; with it
 * memory stays at `limit` responses and the first proxies converge sooner.
 * Work queued for a stream replaces work still queued for it: a later push supersedes.
 */
export class PushThrottle<S> {
  readonly #queue = new Map<S, () => void>();
  readonly #inFlight = new Set<S>();
  readonly #outstanding = new Map<S, number>();

  constructor(private readonly limit: number) {}

  /** Streams waiting for a slot (for status and tests). */
  get queued(): number { return this.#queue.size; }

  /** Runs `work` for `s` when a slot is free (and `s` has nothing in flight). */
  enqueue(s: S, work: () => void): void {
    this.#queue.delete(s);
    this.#queue.set(s, work);
    this.#pump();
  }

  /** A write for `s` starts; call the returned function once it is flushed (or failed). */
  writing(s: S): () => void {
    this.#outstanding.set(s, (this.#outstanding.get(s) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (this.#outstanding.get(s) ?? 1) - 1;
      if (left > 0) { this.#outstanding.set(s, left); return; }
      this.#outstanding.delete(s);
      if (this.#inFlight.delete(s)) this.#pump();
    };
  }

  /** `s` is gone: its queued work is dropped and its slot freed. */
  forget(s: S): void {
    this.#queue.delete(s);
    this.#outstanding.delete(s);
    if (this.#inFlight.delete(s)) this.#pump();
  }

  #pump(): void {
    for (const [s, work] of this.#queue) {
      if (this.#inFlight.size >= this.limit) return;
      if (this.#inFlight.has(s)) continue;
      this.#queue.delete(s);
      this.#inFlight.add(s);
      work();
      if (!this.#outstanding.has(s)) this.#inFlight.delete(s); // nothing to send
    }
  }
}
