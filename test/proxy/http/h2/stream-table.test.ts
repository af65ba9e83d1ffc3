import { it } from 'node:test';
import assert from 'node:assert/strict';
import { StreamTable } from '../../../../src/proxy/http/h2/stream-table.js';
import type { H2Stream } from '../../../../src/proxy/http/h2/stream.js';

it('StreamTable behaves like a Map under random opens and closes (growth, wrap-around, backward shifts)', () => {
  let seed = 1;
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const t = new StreamTable();
  const m = new Map<number, H2Stream>();
  let next = 1;
  const live: number[] = [];
  for (let step = 0; step < 200_000; step++) {
    const open = live.length === 0 || (live.length < 300 && rnd(100) < 52);
    if (open) {
      const id = next;
      next += 2 + 2 * rnd(3); // gaps, as refused or ignored streams leave
      const s = { id } as unknown as H2Stream;
      t.set(id, s);
      m.set(id, s);
      live.push(id);
    } else {
      const id = live.splice(rnd(live.length), 1)[0]!;
      assert.equal(t.delete(id), m.delete(id));
    }
    if (step % 997 === 0) {
      assert.equal(t.size, m.size);
      for (const id of live) assert.equal(t.get(id), m.get(id));
      assert.equal(t.get(next), undefined);
      assert.deepEqual(t.values().map((s) => s.id).sort((a, b) => a - b), [...m.keys()].sort((a, b) => a - b));
    }
  }
  assert.equal(t.delete(next), false);
});
