import { test } from 'node:test';
import assert from 'node:assert/strict';
import { takeDeferredV8Flags } from '../../src/proxy/start-up.js';

test('takeDeferredV8Flags: only the compiler switches, once', () => {
  process.env['TSMESH_RESUME_V8_FLAGS'] = '--opt --sparkplug --expose-gc --no-such';
  assert.deepEqual(takeDeferredV8Flags(), ['--opt', '--sparkplug']);
  assert.equal(process.env['TSMESH_RESUME_V8_FLAGS'], undefined);
  assert.deepEqual(takeDeferredV8Flags(), []);
});
