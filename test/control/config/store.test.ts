import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigStore, OwnershipConflict, API_OWNER, type ConfigChange } from '../../../src/control/config/store.js';
import { DataDirPersistence } from '../../../src/control/config/store-persist.js';
import { parseResources } from '../../../src/control/config/parse.js';
import type { MeshResource } from '../../../src/control/config/kinds.js';

function res(yaml: string): MeshResource[] {
  const r = parseResources(yaml);
  assert.deepEqual(r.issues, []);
  return r.resources;
}
const dr = (name: string, host = name, ns = 'default') => res(`apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: ${name}, namespace: ${ns} }\nspec: { host: ${host} }\n`)[0]!;
const hostOf = (store: ConfigStore, name: string): string | undefined => {
  const r = store.get('DestinationRule', 'default', name)?.resource;
  return r?.kind === 'DestinationRule' ? r.spec.host : undefined;
};
const mesh = (name: string, mode: string) => res(`apiVersion: tsmesh.io/v1\nkind: MeshConfig\nmetadata: { name: ${name} }\nspec: { outboundTrafficPolicy: { mode: ${mode} } }\n`)[0]!;

test('apply answers created / configured / unchanged; versions and events follow real changes only', () => {
  const store = new ConfigStore({ now: () => new Date('2026-01-01T00:00:00Z') });
  const events: ConfigChange[][] = [];
  store.onChange((c) => events.push([...c]));
  assert.deepEqual(store.apply([dr('a'), dr('b')], API_OWNER).map((o) => o.result), ['created', 'created']);
  assert.equal(store.revision, 2);
  assert.equal(events.length, 1, 'one apply is one batch of changes');
  assert.deepEqual(store.apply([dr('a'), dr('b', 'other')], API_OWNER).map((o) => o.result), ['unchanged', 'configured']);
  assert.equal(store.revision, 3);
  assert.equal(store.get('DestinationRule', 'default', 'b')?.resource.metadata.resourceVersion, '3');
  assert.equal(store.get('DestinationRule', 'default', 'b')?.resource.metadata.creationTimestamp, '2026-01-01T00:00:00.000Z');
  assert.deepEqual(store.apply([dr('a')], API_OWNER).map((o) => o.result), ['unchanged']);
  assert.equal(events.length, 2, 'an unchanged apply sends no event');
  assert.deepEqual(events[1]!.map((c) => `${c.type} ${c.key}`), ['updated DestinationRule/default/b']);
  assert.deepEqual(store.delete([{ kind: 'DestinationRule', namespace: 'default', name: 'a' }, { kind: 'DestinationRule', namespace: 'default', name: 'zzz' }], API_OWNER).map((o) => o.result), ['deleted', 'not found']);
  assert.equal(store.revision, 4);
  assert.deepEqual(store.list().map((e) => e.resource.metadata.name), ['b']);
});

test('snapshot: immutable, grouped by kind, versioned; the oldest MeshConfig wins', () => {
  const store = new ConfigStore();
  store.apply([dr('a'), mesh('mesh', 'REGISTRY_ONLY')], API_OWNER);
  const s1 = store.snapshot();
  assert.equal(s1, store.snapshot(), 'the same object until something changes');
  assert.equal(s1.destinationRules.length, 1);
  assert.equal(s1.mesh.outboundTrafficPolicy?.mode, 'REGISTRY_ONLY');
  assert.throws(() => { (s1.destinationRules as MeshResource[]).push(dr('x')); }, TypeError);
  assert.throws(() => { (s1.destinationRules[0]!.spec as { host: string }).host = 'changed'; }, TypeError);
  store.apply([mesh('later', 'ALLOW_ANY')], API_OWNER);
  const s2 = store.snapshot();
  assert.ok(s2.version > s1.version);
  assert.equal(s2.mesh.outboundTrafficPolicy?.mode, 'REGISTRY_ONLY');
  assert.equal(s1.destinationRules[0]!.spec.host, 'a', 'an old snapshot stays as it was');
});

test('ownership: API and files do not overwrite each other; a file owns exactly what it lists', () => {
  const store = new ConfigStore();
  store.apply([dr('api-owned')], API_OWNER);
  const r = store.replaceOwned('file:a.yaml', [dr('api-owned', 'x'), dr('from-file')]);
  assert.deepEqual(r.conflicts.map((c) => `${c.resource}: ${c.message}`), ['DestinationRule default/api-owned: already defined by the API (tsmesh apply); change it there']);
  assert.equal(hostOf(store, 'api-owned'), 'api-owned');
  assert.throws(() => store.apply([dr('from-file', 'y'), dr('new')], API_OWNER), (e: unknown) => e instanceof OwnershipConflict && /from-file: already defined by file a\.yaml of the config directory/.test(e.message));
  assert.equal(store.get('DestinationRule', 'default', 'new'), undefined, 'all or nothing');
  assert.throws(() => store.delete([{ kind: 'DestinationRule', namespace: 'default', name: 'from-file' }], API_OWNER), OwnershipConflict);
  store.replaceOwned('file:a.yaml', []);
  assert.equal(store.get('DestinationRule', 'default', 'from-file'), undefined, 'what the file no longer lists is deleted');
});

test('persistence: what the API stored is on disk (one file each) and restored with its versions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsmesh-store-'));
  try {
    const p = new DataDirPersistence(dir);
    const store = new ConfigStore({ persistence: p });
    store.apply([dr('a'), dr('b')], API_OWNER);
    store.replaceOwned('file:x.yaml', [dr('from-file')]);
    store.delete([{ kind: 'DestinationRule', namespace: 'default', name: 'b' }], API_OWNER);
    store.apply([dr('a', 'changed')], API_OWNER);
    store.delete([{ kind: 'DestinationRule', namespace: 'default', name: 'a' }], API_OWNER);
    store.apply([dr('a', 'changed')], API_OWNER);
    store.replaceOwned('file:x.yaml', []);
    assert.deepEqual(readdirSync(p.dir).sort(), ['DestinationRule_default_a.json', 'revision'], 'only API resources; no temp files left');
    writeFileSync(join(p.dir, 'DestinationRule_default_broken.json'), '{"format":1,"resource":{"kind":"DestinationRule"');
    writeFileSync(join(p.dir, '.tmp-leftover'), 'half');
    const again = new DataDirPersistence(dir);
    const loaded = again.load();
    assert.equal(loaded.issues.length, 1);
    assert.match(loaded.issues[0]!.message, /cannot read stored resource/);
    const restored = new ConfigStore({ persistence: again });
    restored.restore(loaded.entries, loaded.revision);
    assert.equal(hostOf(restored, 'a'), 'changed');
    assert.equal(restored.get('DestinationRule', 'default', 'a')?.resource.metadata.resourceVersion, String(store.revision - 1));
    assert.equal(restored.revision, store.revision, 'the revision survives, also when the last change was a deletion');
    assert.ok(!readdirSync(again.dir).includes('.tmp-leftover'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('persistence failure: the change is refused, files written so far are put back, memory is unchanged', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsmesh-store-'));
  try {
    const p = new DataDirPersistence(dir);
    const store = new ConfigStore({ persistence: p });
    store.apply([dr('a')], API_OWNER);
    // A directory where b's file must go: the rename fails (also for root).
    mkdirSync(join(p.dir, 'DestinationRule_default_b.json', 'blocker'), { recursive: true });
    assert.throws(() => store.apply([dr('a', 'changed'), dr('b')], API_OWNER), /EISDIR|ENOTEMPTY|EEXIST/);
    assert.equal(store.get('DestinationRule', 'default', 'b'), undefined);
    assert.equal(hostOf(store, 'a'), 'a');
    const onDisk = new DataDirPersistence(dir).load().entries.map((e) => e.resource);
    assert.deepEqual(onDisk.map((r) => (r.kind === 'DestinationRule' ? r.spec.host : '')), ['a'], 'a is back to its stored version on disk');
    assert.ok(!readdirSync(p.dir).some((f) => f.startsWith('.tmp-')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an update carries the resource it replaced: an edit of a ServiceEntry\'s endpoints alone scopes its push to clusters and endpoints', async () => {
  const { scopeOfChanges } = await import('../../../src/control/translate/scope.js');
  const entry = (address: string, port = 80) => res(`apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: { name: a, namespace: default }\nspec: { hosts: [a.example.com], ports: [{ number: ${port}, name: http, protocol: HTTP }], resolution: STATIC, endpoints: [{ address: ${address} }] }\n`)[0]!;
  const store = new ConfigStore();
  const events: ConfigChange[][] = [];
  store.onChange((c) => events.push([...c]));
  store.apply([entry('10.0.0.1')], API_OWNER);
  assert.equal(events[0]![0]!.previous, undefined);
  assert.equal(scopeOfChanges(events[0]!), 'all', 'a new ServiceEntry');
  store.apply([entry('10.0.0.2')], API_OWNER);
  const update = events[1]![0]!;
  assert.equal(update.type, 'updated');
  assert.equal(update.previous?.kind === 'ServiceEntry' && update.previous.spec.endpoints?.[0]?.address, '10.0.0.1');
  assert.equal(scopeOfChanges(events[1]!), 'endpoints');
  store.apply([entry('10.0.0.2', 81)], API_OWNER);
  assert.equal(scopeOfChanges(events[2]!), 'all', 'a port changed');
});
