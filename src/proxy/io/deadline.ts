/**
 * Timeouts on the request path that almost never fire (a route's 15 s default, for one): a
 * Node `setTimeout` per request is a Timeout object with an async id, a clock read, a list
 * insert and a removal when the request ends first, as it nearly always does. Deadlines of
 * one duration expire in the order they were armed, so each duration keeps a FIFO list
 * (linked through the Deadline objects, no allocation per arm) and one unref'd Node timer for
 * its head. Cancelling unlinks in O(1); the timer, when it fires for a head that was since
 * cancelled, re-arms for the new head. Precision is Node's: a deadline fires on the first timer
 * run at or after it (1 ms of slack, as Node's own ms clock has).
 */

/** One re-armable timeout; `onExpire` runs when it expires while armed. */
export class Deadline {
  /** @internal */ prev: Deadline | undefined = undefined;
  /** @internal */ next: Deadline | undefined = undefined;
  /** @internal */ list: DeadlineList | undefined = undefined;
  /** @internal performance.now() at which it expires. */
  at = 0;

  constructor(readonly onExpire: () => void) {}

  get armed(): boolean {
    return this.list !== undefined;
  }

  /** Expires `ms` from now (whole ms, at least 1); re-arming an armed deadline moves it. */
  arm(ms: number): void {
    if (this.list) this.list.remove(this);
    ms = Math.max(1, Math.ceil(ms));
    let list = lists.get(ms);
    if (!list) {
      list = new DeadlineList(ms);
      lists.set(ms, list);
    }
    list.push(this, performance.now() + ms);
  }

  cancel(): void {
    if (this.list) this.list.remove(this);
  }
}

const lists = new Map<number, DeadlineList>();

class DeadlineList {
  head: Deadline | undefined = undefined;
  tail: Deadline | undefined = undefined;
  #timer: NodeJS.Timeout | undefined = undefined;

  constructor(readonly ms: number) {}

  push(d: Deadline, at: number): void {
    d.at = at;
    d.list = this;
    d.prev = this.tail;
    d.next = undefined;
    if (this.tail) this.tail.next = d;
    else this.head = d;
    this.tail = d;
    if (!this.#timer) this.#schedule(this.ms);
  }

  remove(d: Deadline): void {
    const { prev, next } = d;
    if (prev) prev.next = next;
    else this.head = next;
    if (next) next.prev = prev;
    else this.tail = prev;
    d.prev = d.next = d.list = undefined;
  }

  #schedule(ms: number): void {
    this.#timer = setTimeout(this.#expire, Math.max(1, Math.ceil(ms)));
    this.#timer.unref();
  }

  #expire = (): void => {
    this.#timer = undefined;
    const now = performance.now();
    let d = this.head;
    while (d && d.at - now < 1) {
      this.remove(d);
      d.onExpire();
      // onExpire may have armed or cancelled others in this list: start again from the head.
      d = this.head;
    }
    if (d) {
      if (!this.#timer) this.#schedule(d.at - now);
    } else if (!this.#timer && lists.get(this.ms) === this) {
      lists.delete(this.ms);
    }
  };
}
