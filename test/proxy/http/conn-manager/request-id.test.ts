import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newRequestId } from '../../../../src/proxy/http/conn-manager/request-id.js';

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
