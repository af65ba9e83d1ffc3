import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { holdWrites, releaseWrites, writeHeld } from '../../../src/proxy/io/write-batch.js';

/** A connected loopback pair: `client` writes, the returned promise collects what the server side reads until it ends. */
async function pair(): Promise<{ client: net.Socket; received: Promise<string>; close: () => void }> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const accepted = once(server, 'connection');
  const client = net.connect(port, '127.0.0.1');
  await once(client, 'connect');
  const [peer] = (await accepted) as [net.Socket];
  const received = new Promise<string>((resolve, reject) => {
    let text = '';
    peer.setEncoding('latin1');
    peer.on('data', (d: string) => { text += d; });
    peer.on('error', reject);
    peer.on('close', () => resolve(text));
  });
  return { client, received, close: () => { client.destroy(); peer.destroy(); server.close(); } };
}

test('held writes leave at the end of the event-loop turn, in order', async () => {
  const { client, received, close } = await pair();
  try {
    holdWrites(client);
    client.write('one ');
    holdWrites(client); // a second hold in the same turn is the same hold
    client.write('two ');
    assert.equal(client.writableCorked, 1, 'held until the turn ends');
    await new Promise((r) => setImmediate(r));
    assert.equal(client.writableCorked, 0, 'released after the poll phase');
    client.write('three');
    client.end();
    assert.equal(await received, 'one two three');
  } finally {
    close();
  }
});

test('end() sends what is held before the FIN', async () => {
  const { client, received, close } = await pair();
  try {
    holdWrites(client);
    client.write('response');
    client.end();
    assert.equal(await received, 'response');
  } finally {
    close();
  }
});

test('releaseWrites sends what is held before a destroy()', async () => {
  const { client, received, close } = await pair();
  try {
    holdWrites(client);
    client.write('partial');
    releaseWrites(client);
    client.destroy();
    assert.equal(await received, 'partial');
  } finally {
    close();
  }
});

test('a held string leaves at the end of the turn, in order with writes through the stream', async () => {
  const { client, received, close } = await pair();
  try {
    writeHeld(client, 'one ');
    writeHeld(client, 'two ');
    assert.equal(client.bytesWritten, 0, 'nothing written during the turn');
    holdWrites(client); // a write through the stream queues behind the held string
    client.write(Buffer.from('three '));
    writeHeld(client, 'four');
    await new Promise((r) => setImmediate(r));
    assert.equal(client.writableCorked, 0, 'released after the poll phase');
    writeHeld(client, ' five');
    releaseWrites(client); // before end(): the held string goes before the FIN
    client.end();
    assert.equal(await received, 'one two three four five');
  } finally {
    close();
  }
});
