import { test } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import net from 'node:net';
import { once } from 'node:events';
import { parseClientHello } from '../../../src/proxy/listener/client-hello.js';

/** Captures the first bytes a real Node TLS client sends. */
async function realHello(opts: tls.ConnectionOptions): Promise<Buffer> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const got = new Promise<Buffer>((resolve) => server.once('connection', (s) => s.once('data', (d: Buffer) => { resolve(d); s.destroy(); })));
  const c = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts });
  c.on('error', () => {});
  const hello = await got;
  c.destroy();
  server.close();
  return hello;
}

test('SNI and ALPN from a real ClientHello', async () => {
  const hello = await realHello({ servername: 'api.example.com', ALPNProtocols: ['h2', 'http/1.1'] });
  assert.deepEqual(parseClientHello(hello), { kind: 'tls', serverName: 'api.example.com', alpn: ['h2', 'http/1.1'] });
});

test('every prefix of a ClientHello needs more bytes, never a wrong answer', async () => {
  const hello = await realHello({ servername: 'x.test' });
  for (let i = 1; i < hello.length; i++) assert.equal(parseClientHello(hello.subarray(0, i)).kind, 'need-more', `prefix ${i}`);
});

test('plaintext HTTP is not TLS', () => {
  assert.deepEqual(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n')), { kind: 'not-tls' });
  assert.deepEqual(parseClientHello(Buffer.from([0x16, 0x09, 0x00, 0x00, 0x10])), { kind: 'not-tls' });
});
