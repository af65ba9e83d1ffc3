import test from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import { SilenceMeter } from '../../../src/proxy/io/silence.js';

test('silence grows by a tick per quiet tick and starts over on traffic or when busy', () => {
  const sock = { bytesRead: 0, bytesWritten: 0 };
  const s = new SilenceMeter(250);
  const tick = (busy = false): number => s.tick(sock as net.Socket, busy);
  assert.equal(tick(), 0, 'the first tick only takes the byte counts');
  assert.equal(tick(), 250);
  assert.equal(tick(), 500);
  sock.bytesRead += 10;
  assert.equal(tick(), 0, 'bytes read start it over');
  assert.equal(tick(), 250);
  sock.bytesWritten += 1;
  assert.equal(tick(), 0, 'bytes written start it over');
  assert.equal(tick(), 250);
  assert.equal(tick(true), 0, 'busy starts it over');
  assert.equal(tick(), 250);
});
