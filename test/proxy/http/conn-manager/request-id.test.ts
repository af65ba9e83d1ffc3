import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { newRequestId } from '../../../../src/proxy/http/conn-manager/request-id.js';
import { freePort } from '../../../support/net.js';
import { httpBootstrap, repoRoot, writeTemp } from '../../../support/proxy.js';

const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('request ids are version 4 UUIDs, all different, across many refills of the random pool', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const id = newRequestId();
    assert.match(id, UUID4);
    seen.add(id);
  }
  assert.equal(seen.size, 5000);
});

test('every hex digit outside the fixed version and variant bits varies', () => {
  // A stuck position (a formatting bug reusing stale bytes) shows up as one value at that index.
  const values = Array.from({ length: 36 }, () => new Set<string>());
  for (let i = 0; i < 2000; i++) {
    const id = newRequestId();
    for (let j = 0; j < 36; j++) values[j]!.add(id[j]!);
  }
  for (let j = 0; j < 36; j++) {
    if ([8, 13, 18, 23].includes(j)) assert.deepEqual([...values[j]!], ['-']);
    else if (j === 14) assert.deepEqual([...values[j]!], ['4']);
    else if (j === 19) assert.equal(values[j]!.size, 4);
    else assert.equal(values[j]!.size, 16, `position ${j}`);
  }
});

// The builtins a process loaded (process.moduleLoadList), written when it exits.
const PRELOAD = `
import { writeFileSync } from 'node:fs';
process.on('exit', () => writeFileSync(process.env.TSMESH_TEST_BUILTINS, process.moduleLoadList.join('\\n')));
`;

test('a proxy without TLS generates request IDs without loading node:crypto (OpenSSL)', async (t) => {
  // The upstream answers with the x-request-id the proxy sent it.
  const upstream = createServer((req, res) => res.end(req.headers['x-request-id'] ?? ''));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  t.after(() => upstream.close());
  const upstreamPort = (upstream.address() as { port: number }).port;
  const [adminPort, listenPort] = [await freePort(), await freePort()];
  const out = writeTemp('builtins.txt', '');
  const bootstrap = writeTemp('bootstrap.yaml', httpBootstrap({ listenPort, upstreamPort }).replace('ADMIN_PORT', String(adminPort)));
  const child = spawn(process.execPath, ['--import', writeTemp('preload.mjs', PRELOAD), join(repoRoot(), 'bin/tsmesh.js'), 'proxy', '-c', bootstrap, '--concurrency', '1'], {
    env: { ...process.env, TSMESH_TEST_BUILTINS: out }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  try {
    const ids: string[] = [];
    const deadline = Date.now() + 60_000;
    while (ids.length < 2) {
      if (child.exitCode !== null) throw new Error(`proxy exited: ${err}`);
      try {
        const res = await fetch(`http://127.0.0.1:${listenPort}/`, { signal: AbortSignal.timeout(5000) });
        assert.equal(res.status, 200);
        ids.push(await res.text());
      } catch (e) {
        if (e instanceof assert.AssertionError) throw e;
        if (Date.now() > deadline) throw new Error(`proxy did not serve: ${err}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    for (const id of ids) assert.match(id, UUID4);
    assert.notEqual(ids[0], ids[1]);
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  }
  const builtins = readFileSync(out, 'utf8').split('\n');
  assert.ok(builtins.includes('NativeModule net'), 'the preload saw the proxy');
  assert.deepEqual(builtins.filter((m) => /crypto/.test(m)), []);
});
