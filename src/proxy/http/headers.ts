/**
 * Header list of one HTTP message: names lower-case (as Envoy normalises them), order kept,
 * repeats allowed. Stored flat ([name, value, name, value, ...]) so the codec fills it without
 * allocating an object per header.
 */
export class HeaderMap {
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
    let found = false;
    for (let i = 0; i < l.length; i += 2) {
      if (l[i] !== name) continue;
      if (!found) { l[i + 1] = value; found = true; continue; }
      l.splice(i, 2);
      i -= 2;
    }
    if (!found) l.push(name, value);
  }

  /** Removes every value of `name`; returns whether any was there. */
  remove(name: string): boolean {
    const l = this.list;
    let removed = false;
    for (let i = 0; i < l.length; i += 2) {
      if (l[i] === name) { l.splice(i, 2); i -= 2; removed = true; }
    }
    return removed;
  }

  /** Removes every header whose name starts with `prefix`. */
  removePrefix(prefix: string): void {
    const l = this.list;
    for (let i = 0; i < l.length; i += 2) {
      if (l[i]!.startsWith(prefix)) { l.splice(i, 2); i -= 2; }
    }
  }

  clone(): HeaderMap {
    return new HeaderMap(this.list.slice());
  }
}
