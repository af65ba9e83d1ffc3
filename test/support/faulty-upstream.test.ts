import { test } from 'node:test';
import assert from 'node:assert/strict';
import { faultyUpstream } from './faulty-upstream.js';
import { request } from './net.js';

test('the faulty upstream follows its script, then its default; stop refuses and start listens again', async () => {
  const up = await faultyUpstream({ name: 'u1' });
  try {
    up.script({ kind: 'status', status: 503 }, { kind: 'reset' });
    assert.equal((await request(up.port)).status, 503);
    await assert.rejects(request(up.port), /ECONNRESET|socket hang up/);
    const ok = await request(up.port);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['x-upstream'], 'u1');
    assert.deepEqual(up.seen.map((s) => s.behaviour), ['status', 'reset', 'ok']);
    await up.stop();
    await assert.rejects(request(up.port), /ECONNREFUSED/);
    await up.start();
    assert.equal((await request(up.port)).status, 200);
  } finally {
    await up.close();
  }
});
