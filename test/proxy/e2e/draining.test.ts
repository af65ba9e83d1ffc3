import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { freePort, request } from '../../support/net.js';
import { faultyUpstream } from '../../support/faulty-upstream.js';
import { startProxy, httpBootstrap } from '../../support/proxy.js';

async function until(what: string, ok: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

for (const concurrency of [1, 2]) {
  test(`SIGTERM drains (--concurrency ${concurrency}): the request in flight completes, new connections are refused, the proxy exits 0`, async () => {
    const up = await faultyUpstream();
    up.setDefault({ kind: 'slow', delayMs: 1000 });
    const listen = await freePort();
    const proxy = await startProxy(httpBootstrap({ listenPort: listen, upstreamPort: up.port }), { concurrency });
    try {
      const inflight = request(listen, { path: '/slow' });
      await until('request upstream', () => up.seen.length === 1);
      proxy.child.kill('SIGTERM');
      await until('listener closed', () => new Promise<boolean>((resolve) => {
        const s = net.connect(listen, '127.0.0.1');
        s.once('connect', () => { s.destroy(); resolve(false); });
        s.once('error', () => resolve(true));
      }));
      const r = await inflight;
      assert.equal(r.status, 200);
      assert.equal(r.headers.connection, 'close');
      assert.equal(await proxy.stop(), 0);
    } finally {
      await proxy.stop();
      await up.close();
    }
  });
}

test('/drain_listeners: /ready says DRAINING, idle keep-alive connections are closed, the process keeps running', async () => {
  const up = await faultyUpstream();
  const listen = await freePort();
  const proxy = await startProxy(httpBootstrap({ listenPort: listen, upstreamPort: up.port }));
  try {
    const idle = net.connect(listen, '127.0.0.1');
    await once(idle, 'connect');
    idle.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    await once(idle, 'data');
    const closed = once(idle, 'close');
    assert.equal((await proxy.admin('/drain_listeners', 'POST')).body, 'OK\n');
    await closed;
    const ready = await proxy.admin('/ready');
    assert.deepEqual([ready.status, ready.body], [503, 'DRAINING\n']);
    await assert.rejects(request(listen, { path: '/' }), /ECONNREFUSED/);
    assert.equal(proxy.child.exitCode, null);
  } finally {
    await proxy.stop();
    await up.close();
  }
});
