import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { freePort, rawUpstream } from '../../support/net.js';
import { startProxy, httpBootstrap, type RunningProxy } from '../../support/proxy.js';

// A slow reader must slow the upstream down (backpressure), not fill the proxy's memory.
const TOTAL = 256 * 1024 * 1024;
let proxy: RunningProxy;
let port: number;
let upstream: Awaited<ReturnType<typeof rawUpstream>>;
let upstreamSocket: net.Socket | undefined;

before(async () => {
  const chunk = Buffer.alloc(1024 * 1024, 'x');
  upstream = await rawUpstream((s) => {
    upstreamSocket = s;
    s.once('data', () => {
      s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${TOTAL}\r\n\r\n`);
      let sent = 0;
      const pump = (): void => {
        while (sent < TOTAL) {
          sent += chunk.length;
          if (!s.write(chunk)) { s.once('drain', pump); return; }
        }
      };
      pump();
    });
  });
  port = await freePort();
  proxy = await startProxy(httpBootstrap({ listenPort: port, upstreamPort: upstream.port, routeExtra: 'timeout: 0s' }));
});

after(async () => {
  await proxy.stop();
  await upstream.close();
});

test('a paused client holds the upstream back; resuming gets every byte', async () => {
  const c = net.connect(port, '127.0.0.1');
  await once(c, 'connect');
  c.write('GET /big HTTP/1.1\r\nHost: a\r\n\r\n');
  let received = 0;
  c.on('data', (d: Buffer) => { received += d.length; });
  await new Promise((r) => setTimeout(r, 300));
  c.pause();
  await new Promise((r) => setTimeout(r, 700));
  const w1 = upstreamSocket!.bytesWritten;
  await new Promise((r) => setTimeout(r, 1000));
  const w2 = upstreamSocket!.bytesWritten;
  // Once the buffers between them are full the upstream stops; what is in flight is bounded by
  // kernel socket buffers on two hops plus the proxy's own small buffers.
  assert.ok(w2 < TOTAL, 'the whole body went out although nobody read it');
  assert.equal(w2 - w1, 0, `upstream kept writing (${w2 - w1} bytes) while the client was paused`);
  assert.ok(w2 - received < 64 * 1024 * 1024, `${w2 - received} bytes in flight`);
  c.resume();
  const deadline = Date.now() + 30_000;
  while (received < TOTAL && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  c.destroy();
  assert.ok(received > TOTAL, `received ${received}`); // body plus the response head
});
