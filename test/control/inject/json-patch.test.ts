import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyPatch, diff, parsePointer, toPointer, type PatchOp } from '../../../src/control/inject/json-patch.js';
import type { Json } from '../../../src/control/inject/json.js';

const PAIRS: [string, Json, Json][] = [
  ['equal', { a: 1 }, { a: 1 }],
  ['add a key', { a: 1 }, { a: 1, b: { c: [1] } }],
  ['remove a key', { a: 1, b: 2 }, { a: 1 }],
  ['replace a scalar with an object', { a: 1 }, { a: { x: 'y' } }],
  ['append to an array', { l: [1, 2] }, { l: [1, 2, 3, 4] }],
  ['shorten an array', { l: [1, 2, 3, 4] }, { l: [1] }],
  ['change inside an array element', { l: [{ n: 'a', v: 1 }] }, { l: [{ n: 'a', v: 2, w: true }] }],
  ['keys with / and ~', { m: { 'a/b': '1', 'c~d': '2' } }, { m: { 'a/b': '3', 'e/~f': '4' } }],
  ['null and booleans', { a: null, b: true }, { a: false, b: null }],
  ['array to object', { a: [1] }, { a: { 0: 1 } }],
  ['root replaced', [1], { a: 1 }],
];

for (const [name, from, to] of PAIRS) {
  test(`diff then apply gives the target: ${name}`, () => {
    const ops = diff(from, to);
    const before = structuredClone(from);
    assert.deepEqual(applyPatch(from, ops), to);
    assert.deepEqual(from, before, 'apply does not change its input');
    if (name === 'equal') assert.deepEqual(ops, []);
  });
}

test('pointers escape ~ and / (RFC 6901)', () => {
  assert.equal(toPointer(['metadata', 'annotations', 'sidecar.tsmesh.io/status']), '/metadata/annotations/sidecar.tsmesh.io~1status');
  assert.equal(toPointer(['a~b', 0]), '/a~0b/0');
  assert.deepEqual(parsePointer('/a~1b/c~0d/~01'), ['a/b', 'c~d', '~1']);
  assert.deepEqual(diff({ m: {} }, { m: { 'x/y': 'z' } }), [{ op: 'add', path: '/m/x~1y', value: 'z' }]);
});

test('appending emits adds at the next indexes, which apply in order', () => {
  assert.deepEqual(diff({ c: [{ name: 'app' }] }, { c: [{ name: 'app' }, { name: 'p' }, { name: 'q' }] }), [
    { op: 'add', path: '/c/1', value: { name: 'p' } },
    { op: 'add', path: '/c/2', value: { name: 'q' } },
  ]);
});

test('apply follows RFC 6902 for add with "-", test, and refuses what does not exist', () => {
  assert.deepEqual(applyPatch({ l: [1] }, [{ op: 'add', path: '/l/-', value: 2 }, { op: 'test', path: '/l/1', value: 2 }]), { l: [1, 2] });
  const bad: [PatchOp[], RegExp][] = [
    [[{ op: 'replace', path: '/nope', value: 1 }], /operation 0 \(replace \/nope\): no member "nope"/],
    [[{ op: 'add', path: '/a/b/c', value: 1 }], /no value at "a"/],
    [[{ op: 'add', path: '/l/5', value: 1 }], /index 5 is out of range/],
    [[{ op: 'remove', path: '/l/x' }], /"x" is not an array index/],
    [[{ op: 'test', path: '/l/0', value: 9 }], /test failed/],
    [[{ op: 'remove', path: '' }], /cannot remove the document root/],
  ];
  for (const [ops, want] of bad) assert.throws(() => applyPatch({ l: [1] }, ops), want);
});
