import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { FramedMessage, framedWrites } from '../../../src/control/xds/framed.js';

// Framed writes rely on a grpc-js internal (framed.ts): these tests fail if an upgrade loses it,
// rather than the ADS server silently copying every response again.

test('framed: active with the installed grpc-js', () => {
  assert.equal(framedWrites(), true);
});

test('framed: a response built in its frame is not copied again; of() frames other bytes once', () => {
  const m = FramedMessage.concat([Buffer.from('ab'), Buffer.from('cde')]);
  assert.deepEqual(Buffer.from(m), Buffer.from('abcde'));
  const f = FramedMessage.of(m);
  assert.equal(f.frame.buffer, m.buffer, 'the same memory');
  assert.deepEqual([...f.frame.subarray(0, 5)], [0, 0, 0, 0, 5]);
  const other = new Uint8Array(70_000).fill(7);
  const g = FramedMessage.of(other);
  assert.equal(FramedMessage.of(other), g);
  assert.equal(g.frame.readUInt32BE(1), 70_000);
  assert.ok(Buffer.from(g.message).equals(other));
});

test('framed: one frame written to several grpc-js streams arrives whole on each; plain messages still go through serialize', async () => {
  assert.equal(framedWrites(), true);
  const big = FramedMessage.of(Uint8Array.from({ length: 300_000 }, (_, i) => i % 251));
  let serialized = 0;
  const server = new grpc.Server();
  const path = '/test.Framed/Stream';
  server.addService({
    Stream: {
      path, requestStream: true, responseStream: true, originalName: 'stream',
      requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b,
      responseSerialize: (m: Uint8Array) => { serialized++; return Buffer.from(m); }, responseDeserialize: (b: Buffer) => b,
    },
  }, {
    Stream: (call: grpc.ServerDuplexStream<Buffer, Uint8Array | FramedMessage>) => {
      call.on('data', (req: Buffer) => {
        if (req.toString() === 'framed') { call.write(big); call.write(big); } else call.write(Buffer.from('plain'));
      });
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  const clients: grpc.Client[] = [];
  try {
    const got = await Promise.all(['framed', 'framed', 'plain'].map((what) => new Promise<Buffer[]>((resolve, reject) => {
      const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
      clients.push(client);
      const call = client.makeBidiStreamRequest(path, (b: Buffer) => b, (b: Buffer) => b);
      const out: Buffer[] = [];
      const want = what === 'framed' ? 2 : 1;
      call.on('data', (b: Buffer) => { out.push(Buffer.from(b)); if (out.length === want) { call.end(); resolve(out); } });
      call.on('error', reject);
      call.write(Buffer.from(what));
    })));
    for (const msgs of got.slice(0, 2)) {
      assert.equal(msgs.length, 2);
      for (const b of msgs) assert.ok(b.equals(Buffer.from(big.message)), 'the framed message, whole');
    }
    assert.equal(got[2]![0]!.toString(), 'plain');
    assert.equal(serialized, 1, 'only the plain message went through responseSerialize');
  } finally {
    for (const c of clients) c.close();
    server.forceShutdown();
  }
});
