import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync, renameSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigStore, API_OWNER } from '../../../src/control/config/store.js';
import { ConfigDirectory } from '../../../src/control/config/store-directory.js';
import { parseResources } from '../../../src/control/config/parse.js';
import { formatIssue } from '../../../src/control/config/issues.js';

const dr = (name: string, host = name) => `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: ${name} }\nspec: { host: ${host} }\n`;

/** Polls until `check` passes (fs.watch and the rescan are asynchronous); generous deadline. */
async function eventually(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function write(file: string, text: string): void {
  // Write + rename, as editors and ConfigMap updates do: the watcher must see a replaced file too.
  writeFileSync(`${file}.tmp~`, text);
  renameSync(`${file}.tmp~`, file);
}

test('the watched directory: add, modify, break, fix, delete a file; the last good version stays while it is broken', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsmesh-configdir-'));
  const store = new ConfigStore();
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'a.yaml'), dr('a'));
  writeFileSync(join(dir, 'sub', 'b.yml'), dr('b'));
  writeFileSync(join(dir, '.hidden.yaml'), dr('hidden'));
  writeFileSync(join(dir, 'notes.txt'), 'not config');
  const d = new ConfigDirectory(dir, store, { debounceMs: 20, rescanMs: 500 });
  t.after(() => { d.close(); rmSync(dir, { recursive: true, force: true }); });
  d.start();
  const names = () => store.list().map((e) => e.resource.metadata.name).join(',');
  const host = (n: string) => { const r = store.get('DestinationRule', 'default', n)?.resource; return r?.kind === 'DestinationRule' ? r.spec.host : undefined; };
  assert.equal(names(), 'a,b', 'loaded synchronously at start; hidden and non-config files skipped');
  assert.equal(store.get('DestinationRule', 'default', 'a')?.owner, 'file:a.yaml');

  write(join(dir, 'c.json'), JSON.stringify(parseResources(dr('c')).resources[0]));
  await eventually('c.json picked up', () => names() === 'a,b,c');

  write(join(dir, 'a.yaml'), `${dr('a', 'a2')}---\n${dr('a-extra')}`);
  await eventually('a.yaml modified', () => host('a') === 'a2' && names() === 'a,a-extra,b,c');

  write(join(dir, 'a.yaml'), `${dr('a', 'a3')}---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: bad }\nspec: { host: "not a host" }\n`);
  await eventually('the broken file reported', () => d.errors().length > 0);
  assert.deepEqual(d.errors().map(formatIssue), ['DestinationRule default/bad: spec.host: expected a DNS name or a wildcard such as "*.example.com", got "not a host"']);
  assert.equal(d.errors()[0]!.source, 'a.yaml');
  assert.equal(host('a'), 'a2', 'the last good version of the broken file stays in force');
  assert.equal(names(), 'a,a-extra,b,c');

  write(join(dir, 'a.yaml'), dr('a', 'a4'));
  await eventually('fixed file applied, its errors cleared', () => host('a') === 'a4' && d.errors().length === 0 && names() === 'a,b,c');

  unlinkSync(join(dir, 'sub', 'b.yml'));
  await eventually('deleted file removes its resources', () => names() === 'a,c');
});

test('a file and the API defining the same resource: the first owner keeps it, the file reports the conflict until it is free', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsmesh-configdir-'));
  const store = new ConfigStore();
  store.apply(parseResources(dr('shared', 'from-api')).resources, API_OWNER);
  writeFileSync(join(dir, 'shared.yaml'), dr('shared', 'from-file'));
  const d = new ConfigDirectory(dir, store, { debounceMs: 20, rescanMs: 200 });
  t.after(() => { d.close(); rmSync(dir, { recursive: true, force: true }); });
  d.start();
  const host = () => { const r = store.get('DestinationRule', 'default', 'shared')?.resource; return r?.kind === 'DestinationRule' ? r.spec.host : undefined; };
  assert.equal(host(), 'from-api');
  assert.deepEqual(d.errors().map(formatIssue), ['DestinationRule default/shared: already defined by the API (tsmesh apply); change it there']);
  store.delete([{ kind: 'DestinationRule', namespace: 'default', name: 'shared' }], API_OWNER);
  await eventually('the file takes over once the API let go', () => host() === 'from-file' && d.errors().length === 0);
});
