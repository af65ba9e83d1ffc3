import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findSection, keepSections, setSection } from '../../bench/lib/sections.js';

test('a section is appended, then replaced in place; other text is untouched', () => {
  const a = setSection('# Benchmarks\n\ntext\n', 'filters', 'one $& $1');
  assert.equal(a, '# Benchmarks\n\ntext\n\n<!-- bench:filters -->\none $& $1\n<!-- /bench:filters -->\n');
  const b = setSection(`${a}tail\n`, 'filters', 'two');
  assert.equal(b, '# Benchmarks\n\ntext\n\n<!-- bench:filters -->\ntwo\n<!-- /bench:filters -->\ntail\n');
  assert.equal(findSection(b, 'other'), undefined);
});

test('a rewrite of the whole file keeps the sections other scripts own', () => {
  const previous = setSection('# old report', 'filters', 'filter numbers');
  assert.equal(keepSections('# new report\n', previous), '# new report\n\n<!-- bench:filters -->\nfilter numbers\n<!-- /bench:filters -->\n');
  assert.equal(keepSections('# new report\n', undefined), '# new report\n');
  assert.equal(keepSections('# new report\n', '# no sections'), '# new report\n');
});
