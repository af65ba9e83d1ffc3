import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HANDOFF_ENV, proxyBootstrapAsJson, takeHandedOffBootstrap } from '../../src/cli/bootstrap-handoff.js';

const dir = mkdtempSync(join(tmpdir(), 'tsmesh-handoff-'));
const file = (name: string, text: string): string => { const f = join(dir, name); writeFileSync(f, text); return f; };

test('proxyBootstrapAsJson: a YAML bootstrap becomes JSON text', async () => {
  const f = file('b.yaml', 'node: { id: n1 }\nadmin:\n  address: { socket_address: { port_value: 1 } }\n');
  assert.deepEqual(JSON.parse((await proxyBootstrapAsJson(['-c', f, '--concurrency', '2']))!), { node: { id: 'n1' }, admin: { address: { socket_address: { port_value: 1 } } } });
  assert.ok(await proxyBootstrapAsJson([`--config-path=${f}`, '--validate']) !== undefined);
});

test('proxyBootstrapAsJson: nothing to hand over', async () => {
  assert.equal(await proxyBootstrapAsJson(['-c', file('b.json', '{"node": {"id": "n1"}}')]), undefined, 'JSON needs no conversion');
  assert.equal(await proxyBootstrapAsJson(['-c', file('bad.yaml', 'a: [1, 2\n')]), undefined, 'the proxy reports bad YAML itself');
  assert.equal(await proxyBootstrapAsJson(['-c', join(dir, 'missing.yaml')]), undefined);
  assert.equal(await proxyBootstrapAsJson(['--concurrency', '1']), undefined);
  assert.equal(await proxyBootstrapAsJson(['--no-such-flag']), undefined);
});

test('takeHandedOffBootstrap: reads the text from the start of the fd, closes it, unsets the variable', () => {
  const fd = openSync(join(dir, 'handoff'), 'w+');
  writeSync(fd, '{"a":1}');
  process.env[HANDOFF_ENV] = String(fd);
  assert.equal(takeHandedOffBootstrap(), '{"a":1}');
  assert.equal(process.env[HANDOFF_ENV], undefined);
  assert.throws(() => closeSync(fd), /EBADF/);
  assert.equal(takeHandedOffBootstrap(), undefined);
});

test('takeHandedOffBootstrap: a variable that names no open fd is ignored', () => {
  for (const v of ['', 'x', '99999', '-1']) {
    process.env[HANDOFF_ENV] = v;
    assert.equal(takeHandedOffBootstrap(), undefined, v);
    assert.equal(process.env[HANDOFF_ENV], undefined);
  }
});
