/**
 * Header list of one HTTP message: names lower-case (as Envoy normalises them), order kept,
 * repeats allowed. Stored flat ([name, value, name, value, ...]) so the codec fills it without
 * allocating an object per header.
 */
export class HeaderMap {
  /**
   * One value of this list that the proxy made itself of field characters only (tracing's
   * traceparent): the HTTP/1.1 serializer, which checks every value for characters that could
   * split the message, skips this one. Compared by value, so a stale mark can only ever match
   * a string equal to one already known good.
   */
  trusted: string | undefined = undefined;

  constructor(readonly list: string[] = []) {}

  get size(): number {
    return this.list.length >> 1;
  }

  /** First value of `name` (lower-case), or undefined. */
  get(name: string): string | undefined {
    const l = this.list;
    for (let i = 0; i < l.length; i += 2) if (l[i] === name) return l[i + 1];
    return undefined;
  }

  /** All values of `name`, in order. */
  getAll(name: string): string[] {
    const out: string[] = [];
    const l = this.list;
    for (let i = 0; i < l.length; i += 2) if (l[i] === name) out.push(l[i + 1]!);
    return out;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Appends without looking for an existing value. */
  add(name: string, value: string): void {
    this.list.push(name, value);
  }

  /** Replaces every value of `name` with one. */
  set(name: string, value: string): void {
    const l = this.list;
    for (let i = 0; i < l.length; i += 2) {
      if (l[i] !== name) continue;
      l[i + 1] = value;
      // Later repeats go; compaction starts after the one kept.
      for (let j = i + 2; j < l.length; j += 2) {
        if (l[j] === name) { compact(l, j, (n) => n === name); return; }
      }
      return;
    }
    l.push(name, value);
  }

  /** Removes every value of `name`; returns whether any was there. */
  remove(name: string): boolean {
    const l = this.list;
    for (let i = 0; i < l.length; i += 2) {
      if (l[i] === name) { compact(l, i, (n) => n === name); return true; }
    }
    return false;
  }

  /** Removes every header whose name starts with `prefix`. */
  removePrefix(prefix: string): void {
    const l = this.list;
    for (let i = 0; i < l.length; i += 2) {
      if (l[i]!.startsWith(prefix)) { compact(l, i, (n) => n.startsWith(prefix)); return; }
    }
  }

  /** Removes every header whose name `drop` accepts, keeping the order of the rest. */
  removeWhere(drop: (name: string) => boolean): void {
    const l = this.list;
    for (let i = 0; i < l.length; i += 2) {
      if (drop(l[i]!)) { compact(l, i, drop); return; }
    }
  }

  clone(): HeaderMap {
    const c = new HeaderMap(this.list.slice());
    c.trusted = this.trusted;
    return c;
  }
}

/**
 * Drops, in place, the fields from index `from` on (a name index, itself dropped) whose name
 * `drop` accepts: no array allocated per removal, as splice() would return one.
 */
function compact(l: string[], from: number, drop: (name: string) => boolean): void {
  let w = from;
  for (let r = from + 2; r < l.length; r += 2) {
    const n = l[r]!;
    if (drop(n)) continue;
    l[w] = n;
    l[w + 1] = l[r + 1]!;
    w += 2;
  }
  l.length = w;
}
