import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NUMBER_ROOM, putNumber, putText } from '../../../src/proxy/io/put-text.js';

/** What putText wrote for `s` at offset 5 of a buffer with room for 3 bytes per code unit. */
function written(s: string): Buffer {
  const b = Buffer.alloc(5 + 3 * s.length + 8, 0xee);
  const end = putText(b, 5, s);
  assert.ok(b.subarray(0, 5).every((x) => x === 0xee), 'nothing written before the offset');
  return b.subarray(5, end);
}

test('putText writes the UTF-8 that Buffer writes, for ASCII and not, on both sides of the native threshold', () => {
  const ascii = (n: number): string => 'abcdefghijklmnopqrstuvwxyz0123456789-/:.'.repeat(8).slice(0, n);
  const cases: string[] = [''];
  for (const n of [1, 24, 36, 55, 63, 64, 65, 100, 300]) {
    cases.push(ascii(n));
    // One non-ASCII character at the start, in the middle and at the end of each length.
    for (const odd of ['é', 'ÿ', '中', '😀', '\ud800']) {
      if (n < 2) continue;
      cases.push(odd + ascii(n - 1), ascii(n >> 1) + odd + ascii(n - (n >> 1) - 1), ascii(n - 1) + odd);
    }
  }
  for (const s of cases) assert.deepEqual(written(s), Buffer.from(s, 'utf8'), JSON.stringify(s.slice(0, 20)) + ` (${s.length} units)`);
});

test('putNumber prints numbers as String(n) does', () => {
  for (const n of [0, 7, 10, 99, 100, 12345, 2 ** 31 - 1, 2 ** 31, -1, 1.5, 1e21, NaN, Infinity]) {
    const b = Buffer.alloc(NUMBER_ROOM);
    assert.equal(b.toString('latin1', 0, putNumber(b, 0, n)), String(n));
  }
});
