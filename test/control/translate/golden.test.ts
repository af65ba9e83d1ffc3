import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from '../../../src/control/translate/index.js';
import { GOLDEN_DIR, goldenCase, resourcesJson } from '../mesh-fixtures.js';

/*
 * Golden files: golden/<case>/input.yaml (mesh config), proxy.json (the identity generated for;
 * it is also connected), optional connected.json (other connected sidecars), output.json (what
 * generate returns, proto3 JSON per xDS type). After an intended change, regenerate with
 *   UPDATE_GOLDEN=1 node --test dist/test/control/translate/golden.test.js
 * and review the diff of output.json like code.
 */
const dir = GOLDEN_DIR;
const update = process.env['UPDATE_GOLDEN'] === '1';

for (const name of readdirSync(dir).sort()) {
  test(`golden: ${name}`, () => {
    const at = (f: string): string => join(dir, name, f);
    const { mesh, proxy } = goldenCase(join(dir, name));
    const text = `${JSON.stringify(resourcesJson(generate(mesh, proxy)), null, 2)}\n`;
    if (update) writeFileSync(at('output.json'), text);
    assert.ok(existsSync(at('output.json')), `${name}: no output.json; run with UPDATE_GOLDEN=1 to create it`);
    assert.equal(text, readFileSync(at('output.json'), 'utf8'), `${name}: output differs from output.json (UPDATE_GOLDEN=1 regenerates it)`);
  });
}
