import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Deadline } from '../../../src/proxy/io/deadline.js';

/** Resolves once `n` deadlines have expired (recorded in `fired`), with the time each fired. */
function recorder(): { fired: string[]; make: (name: string) => Deadline; when: (n: number) => Promise<void> } {
  const fired: string[] = [];
  let waiters: (() => void)[] = [];
  return {
    fired,
    make: (name) => {
      const d: Deadline = new Deadline(() => {
        // Never before its time (Node's own ms clock allows 1 ms of slack).
        assert.ok(performance.now() >= d.at - 1, `${name} fired early`);
        fired.push(name);
        for (const w of waiters) w();
      });
      return d;
    },
    when: (n) => new Promise<void>((resolve) => {
      const check = (): void => { if (fired.length >= n) { waiters = waiters.filter((w) => w !== check); resolve(); } };
      waiters.push(check);
      check();
    }),
  };
}

// The deadline timers are unref'd (a request's socket keeps a proxy alive); so does this here.
function alive(): () => void {
  const t = setInterval(() => {}, 1000);
  return () => clearInterval(t);
}

test('deadlines of one duration fire in the order armed; a cancelled one never fires', async () => {
  const keep = alive();
  try {
    await oneDuration();
  } finally {
    keep();
  }
});

async function oneDuration(): Promise<void> {
  const r = recorder();
  const a = r.make('a');
  const b = r.make('b');
  const c = r.make('c');
  a.arm(20);
  b.arm(20);
  c.arm(20);
  b.cancel();
  assert.equal(b.armed, false);
  await r.when(2);
  assert.deepEqual(r.fired, ['a', 'c']);
  assert.equal(a.armed, false);
  // A cancelled head does not stop the ones behind it; a re-armed one moves to the back.
  const d = r.make('d');
  const e = r.make('e');
  d.arm(15);
  e.arm(15);
  d.arm(15);
  d.cancel();
  d.arm(15);
  await r.when(4);
  assert.deepEqual(r.fired, ['a', 'c', 'e', 'd']);
}

test('different durations keep their own order, and a deadline re-armed from its callback fires again', async () => {
  const keep = alive();
  try {
    await twoDurations();
  } finally {
    keep();
  }
});

async function twoDurations(): Promise<void> {
  const r = recorder();
  const long = r.make('long');
  const short = r.make('short');
  long.arm(60);
  short.arm(5);
  await r.when(2);
  assert.deepEqual(r.fired, ['short', 'long']);
  let count = 0;
  const again: Deadline = new Deadline(() => { if (++count < 3) again.arm(5); });
  again.arm(5);
  while (count < 3) await new Promise((res) => setTimeout(res, 5));
  assert.equal(count, 3);
  assert.equal(again.armed, false);
}
