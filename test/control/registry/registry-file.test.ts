import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeRegistry, encodeRegistry, loadRegistryFile, saveRegistryFile } from '../../../src/control/registry/registry-file.js';
import { identity } from '../mesh-fixtures.js';

const a = identity({ name: 'a', ips: ['127.0.0.1'], labels: { app: 'reviews' } });
const b = { ...identity({ name: 'b', ips: ['127.0.0.2'] }), inboundPort: 15006, outboundPort: 15001, appPorts: [9080] };

test('the registry file round-trips identities', () => {
  assert.deepEqual(decodeRegistry(encodeRegistry([a, b])), { proxies: [a, b], issues: [] });
});

test('a damaged registry file loses only what is damaged, with a reason', () => {
  const cases: [string, string[], string[]][] = [
    ['{', [], ['not JSON: ']],
    ['{"format": 2, "proxies": []}', [], ['expected {"format": 1, "proxies": [...]}']],
    [JSON.stringify({ format: 1, proxies: [a, { ...b, inboundPort: 70000 }, 'x', { ...a, id: '' }, { ...a, labels: { k: 1 } }, { ...a, generator: 'envoy' }] }), ['a'], [
      'proxies[1]: inboundPort: expected a port', 'proxies[2]: expected an object', 'proxies[3]: id: expected a non-empty string',
      'proxies[4]: labels: expected an object of strings', 'proxies[5]: generator: expected sidecar or grpc',
    ]],
  ];
  for (const [text, names, issues] of cases) {
    const r = decodeRegistry(text);
    assert.deepEqual(r.proxies.map((p) => p.name), names, text);
    assert.equal(r.issues.length, issues.length, text);
    r.issues.forEach((m, i) => assert.ok(m.startsWith(issues[i]!), `${m} vs ${issues[i]}`));
  }
});

test('save writes atomically; load of a missing file is empty', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsmesh-registry-'));
  try {
    const file = join(dir, 'registry.json');
    assert.deepEqual(loadRegistryFile(file), { proxies: [], issues: [] });
    saveRegistryFile(file, [a]);
    saveRegistryFile(file, [a, b]);
    assert.deepEqual(loadRegistryFile(file).proxies, [a, b]);
    assert.deepEqual(readdirSync(dir), ['registry.json'], 'no temp file left behind');
    writeFileSync(file, 'garbage');
    assert.equal(loadRegistryFile(file).issues.length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
