import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, httpUpstream, request, type Upstream } from '../../support/net.js';
import { startProxy, httpBootstrap, type RunningProxy } from '../../support/proxy.js';

// Access log lines are batched in memory (flushed each second or per 64 KiB): whatever the proxy
// served before it stops is in the file once it has exited, however it was told to stop.

let upstream: Upstream;
const dir = mkdtempSync(join(tmpdir(), 'tsmesh-log-flush-'));
const running: RunningProxy[] = [];

before(async () => { upstream = await httpUpstream(); });
after(async () => {
  for (const p of running) await p.stop();
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

function logConfig(path: string): string {
  return `
access_log:
- name: envoy.access_loggers.file
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
    path: ${path}
    log_format: { text_format_source: { inline_string: "%REQ(:PATH)% %RESPONSE_CODE%\\n" } }`;
}

async function proxyLogging(file: string, concurrency: number): Promise<{ proxy: RunningProxy; port: number }> {
  const port = await freePort();
  const proxy = await startProxy(httpBootstrap({ listenPort: port, upstreamPort: upstream.port, hcmExtra: logConfig(file) }), { concurrency });
  running.push(proxy);
  return { proxy, port };
}

async function serve(port: number, n: number, tag: string): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  try {
    const rs = await Promise.all(Array.from({ length: n }, (_, i) => request(port, { path: `/${tag}/${i}`, agent })));
    for (const r of rs) assert.equal(r.status, 200);
  } finally {
    agent.destroy();
  }
}

function loggedPaths(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).sort() : [];
}

const expected = (n: number, tag: string): string[] => Array.from({ length: n }, (_, i) => `/${tag}/${i} 200`).sort();

for (const concurrency of [1, 2]) {
  test(`POST /quitquitquit: every line is in the file when the proxy has exited (--concurrency ${concurrency})`, async () => {
    const file = join(dir, `quit-${concurrency}.log`);
    const { proxy, port } = await proxyLogging(file, concurrency);
    await serve(port, 300, 'q');
    assert.equal((await proxy.admin('/quitquitquit', 'POST')).status, 200);
    assert.equal(await proxy.stop(), 0);
    assert.deepEqual(loggedPaths(file), expected(300, 'q'));
  });

  test(`SIGTERM: every line is in the file when the proxy has exited (--concurrency ${concurrency})`, async () => {
    const file = join(dir, `term-${concurrency}.log`);
    const { proxy, port } = await proxyLogging(file, concurrency);
    await serve(port, 300, 't');
    assert.equal(await proxy.stop(), 0);
    assert.deepEqual(loggedPaths(file), expected(300, 't'));
  });
}

test('a log file that cannot be written: requests are served, the error is reported once, the proxy stops cleanly', async () => {
  const file = join(dir, 'no-such-dir', 'access.log');
  const { proxy, port } = await proxyLogging(file, 1);
  await serve(port, 50, 'u');
  // Lines are written (and fail) at the latest at the flush interval; wait for the report.
  for (let i = 0; i < 200 && !proxy.stderr().includes(file); i++) await new Promise((r) => setTimeout(r, 50));
  assert.match(proxy.stderr(), /access log .*no-such-dir\/access\.log: .*ENOENT.*dropping entries/);
  assert.equal(proxy.stderr().split('dropping entries').length - 1, 1);
  await serve(port, 10, 'v');
  assert.equal((await proxy.admin('/ready')).status, 200);
  assert.equal(await proxy.stop(), 0);
  assert.equal(existsSync(file), false);
});
