import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasDuplicateKey, parseJsonWithoutDuplicates } from '../../src/envoy/json-text.js';

const duplicates: [string, string, boolean][] = [
  ['distinct keys', '{"a":1,"b":2}', false],
  ['one key twice', '{"a":1,"a":2}', true],
  ['the same key in two objects', '{"x":{"a":1},"y":{"a":2}}', false],
  ['the same key at two depths', '{"a":{"a":1}}', false],
  ['objects in an array', '[{"a":1},{"a":1}]', false],
  ['twice in a nested object', '{"x":{"b":1,"b":2}}', true],
  ['twice around an array value', '{"a":[1,2],"a":3}', true],
  ['after a closed nested object', '{"a":{"b":1},"a":2}', true],
  ['spelled with an escape', '{"a":1,"\\u0061":2}', true],
  ['a string value that looks like a key', '{"a":"x\\",\\"a\\":","b":1}', false],
  ['a string value equal to a key', '{"a":"a","b":"a"}', false],
  ['an escaped backslash before the closing quote', '{"a\\\\":1,"a":2}', false],
  ['whitespace everywhere', ' { "a" : 1 ,\n "a" : 2 } ', true],
  ['strings in arrays are not keys', '{"a":["b","b"],"b":1}', false],
];
for (const [name, json, want] of duplicates) {
  test(`hasDuplicateKey: ${name}`, () => {
    JSON.parse(json); // the cases must be valid JSON
    assert.equal(hasDuplicateKey(json), want);
  });
}

test('parseJsonWithoutDuplicates: plain JSON is parsed', () => {
  assert.deepEqual(parseJsonWithoutDuplicates(' {"a": [1, "x", null]}\n'), { a: [1, 'x', null] });
});

test('parseJsonWithoutDuplicates: leaves to YAML what JSON.parse would read differently or not at all', () => {
  for (const text of ['a: 1\n', '{a: 1}', '{"a": 1,}', '{"a":1,"a":2}', '# comment\n{"a":1}', '', '"just a string"']) {
    assert.equal(parseJsonWithoutDuplicates(text), undefined, text);
  }
});
