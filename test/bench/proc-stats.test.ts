import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProcStat, parseVmRssKb, parseProcStatCpu } from '../../bench/lib/proc.js';
import { median, percentiles } from '../../bench/lib/stats.js';

test('/proc/PID/stat with spaces and parentheses in the command name', () => {
  const line = '4242 (nginx: worker (x)) S 4241 4241 4241 0 -1 4194624 300 0 0 0 1234 567 8 9 20 0 1 0 1000 12345678 900 18446744073709551615';
  assert.deepEqual(parseProcStat(line), { pid: 4242, ppid: 4241, utime: 1234, stime: 567, cutime: 8, cstime: 9 });
  assert.equal(parseVmRssKb('Name:\tnode\nVmHWM:\t   60000 kB\nVmRSS:\t   51234 kB\n'), 51234);
  assert.equal(parseVmRssKb('Name:\tkthreadd\n'), 0);
});

test('median and nearest-rank percentiles', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  assert.ok(Number.isNaN(median([])));
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.deepEqual(percentiles(hundred, [50, 90, 99, 100]), [50, 90, 99, 100]);
  assert.deepEqual(percentiles([7], [1, 50, 99]), [7, 7, 7]);
});

test('/proc/stat aggregate line: busy is user + nice + system, steal apart', () => {
  const text = 'cpu  1000 50 300 90000 20 0 10 7 0 0\ncpu0 500 25 150 45000 10 0 5 3 0 0\n';
  assert.deepEqual(parseProcStatCpu(text, 100), { busy: 13.5, steal: 0.07 });
  assert.throws(() => parseProcStatCpu('intr 1 2 3\n', 100), /cpu line/);
});
