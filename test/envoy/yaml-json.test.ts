import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { yamlAsJsonText } from '../../src/envoy/yaml-json.js';

test('yamlAsJsonText: JSON text of what the YAML parser reads', () => {
  const yaml = 'a: 1\nb: [x, "y", 2.5, true, null]\nc: { d: "\\u00e9" }\nanchor: &x { k: v }\nalias: *x\n';
  const text = yamlAsJsonText(yaml);
  assert.ok(text !== undefined);
  assert.deepEqual(JSON.parse(text), parse(yaml));
});

test('yamlAsJsonText: refuses what JSON would carry differently', () => {
  for (const yaml of ['a: .nan\n', 'a: .inf\n', 'a: -.inf\n', 'a: -0\n', 'a: !!binary aGVsbG8=\n', 'a: [1, .nan]\n']) {
    assert.equal(yamlAsJsonText(yaml), undefined, yaml);
  }
});

test('yamlAsJsonText: refuses what the YAML parser refuses', () => {
  for (const yaml of ['a: [1, 2\n', 'a: 1\na: 2\n', 'a: 1\n---\nb: 2\n']) {
    assert.equal(yamlAsJsonText(yaml), undefined, yaml);
  }
});
