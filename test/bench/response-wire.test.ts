import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TYPE_URL } from '../../src/control/translate/types.js';
import { buildSnapshot } from '../../src/control/xds/snapshot.js';
import { deltaResponse, sotwResourcesField, sotwResponse } from '../../src/control/xds/wire.js';
import { readDelta, readSotw } from '../../bench/lib/control-plane/response-wire.js';
import { twoServices } from '../control/xds/fixtures.js';

test('bench clients read version, nonce, type URL and names off the wire without decoding resources', () => {
  const snap = buildSnapshot(twoServices());
  const clusters = [...snap.types.get(TYPE_URL.cluster)!.values()];
  const s = readSotw(sotwResponse('v1', TYPE_URL.cluster, 'n7', sotwResourcesField(clusters)));
  assert.deepEqual([s.versionInfo, s.typeUrl, s.nonce], ['v1', TYPE_URL.cluster, 'n7']);
  assert.deepEqual(s.resourceNames(), ['c-a', 'c-b']);
  const endpoints = [...snap.types.get(TYPE_URL.endpoint)!.values()];
  const d = readDelta(deltaResponse('sys', TYPE_URL.endpoint, 'n8', endpoints, ['gone', 'é-ünicode']));
  assert.deepEqual([d.typeUrl, d.nonce], [TYPE_URL.endpoint, 'n8']);
  assert.deepEqual(d.names, ['c-a', 'c-b']);
  assert.deepEqual(d.removed, ['gone', 'é-ünicode']);
  assert.throws(() => readSotw(sotwResponse('v1', TYPE_URL.cluster, 'n7', sotwResourcesField(clusters)).subarray(0, 20)), /truncated/);
});
