import type { H2Stream } from './stream.js';

/**
 * The open streams of a connection by id: an open-addressing table (linear probing,
 * backward-shift deletion) that grows but never shrinks, so opening and closing streams at a
 * high rate allocates nothing (a Map rehashes as it grows and shrinks). Stream ids are odd
 * (client) or even (server) and increase, so `id >>> 1` spreads them over the slots.
 */
export class StreamTable {
  #keys = new Int32Array(16);
  #vals: (H2Stream | undefined)[] = new Array<H2Stream | undefined>(16).fill(undefined);
  #mask = 15;
  #size = 0;

  get size(): number { return this.#size; }

  get(id: number): H2Stream | undefined {
    const keys = this.#keys;
    const mask = this.#mask;
    for (let i = (id >>> 1) & mask; ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === id) return this.#vals[i];
      if (k === 0) return undefined;
    }
  }

  set(id: number, stream: H2Stream): void {
    if ((this.#size + 1) * 2 > this.#keys.length) this.#grow();
    const keys = this.#keys;
    const mask = this.#mask;
    for (let i = (id >>> 1) & mask; ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === id) { this.#vals[i] = stream; return; }
      if (k === 0) {
        keys[i] = id;
        this.#vals[i] = stream;
        this.#size++;
        return;
      }
    }
  }

  delete(id: number): boolean {
    const keys = this.#keys;
    const vals = this.#vals;
    const mask = this.#mask;
    let i = (id >>> 1) & mask;
    for (;;) {
      const k = keys[i]!;
      if (k === 0) return false;
      if (k === id) break;
      i = (i + 1) & mask;
    }
    // Backward shift: move later entries of the probe run into the gap.
    let gap = i;
    for (let j = (i + 1) & mask; keys[j] !== 0; j = (j + 1) & mask) {
      const home = (keys[j]! >>> 1) & mask;
      // Entry j may move to the gap when its home is not in (gap, j] (cyclically).
      if (gap <= j ? home <= gap || home > j : home <= gap && home > j) {
        keys[gap] = keys[j]!;
        vals[gap] = vals[j];
        gap = j;
      }
    }
    keys[gap] = 0;
    vals[gap] = undefined;
    this.#size--;
    return true;
  }

  /** The streams, as an array (callers may close streams while going through it). */
  values(): H2Stream[] {
    const out: H2Stream[] = [];
    const vals = this.#vals;
    for (let i = 0; i < vals.length; i++) { const v = vals[i]; if (v !== undefined) out.push(v); }
    return out;
  }

  #grow(): void {
    const oldKeys = this.#keys;
    const oldVals = this.#vals;
    const cap = oldKeys.length * 2;
    this.#keys = new Int32Array(cap);
    this.#vals = new Array<H2Stream | undefined>(cap).fill(undefined);
    this.#mask = cap - 1;
    this.#size = 0;
    for (let i = 0; i < oldKeys.length; i++) if (oldKeys[i] !== 0) this.set(oldKeys[i]!, oldVals[i]!);
  }
}
