import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TYPE_URL } from '../../../src/control/translate/types.js';
import { buildSnapshot, versionOf } from '../../../src/control/xds/snapshot.js';
import { Subscription } from '../../../src/control/xds/subscription.js';
import { deltaChange, deltaChangeSince } from '../../../src/control/xds/delta-diff.js';
import { twoServices, edsCluster, cla } from './fixtures.js';
import { toBinary } from '@bufbuild/protobuf';
import { ClusterSchema } from '../../../src/envoy/generated/envoy/config/cluster/v3/cluster_pb.js';

test('snapshot: per-resource versions are hashes of the bytes; unchanged resources and types keep their objects', () => {
  const s1 = buildSnapshot(twoServices());
  const s2 = buildSnapshot({ ...twoServices(), endpoints: [cla('c-a', [8001]), cla('c-b', [9999])] }, s1);
  assert.equal(s2.types.get(TYPE_URL.cluster), s1.types.get(TYPE_URL.cluster), 'unchanged type: same map');
  const e1 = s1.types.get(TYPE_URL.endpoint)!; const e2 = s2.types.get(TYPE_URL.endpoint)!;
  assert.notEqual(e2, e1);
  assert.equal(e2.get('c-a'), e1.get('c-a'), 'unchanged resource: same object');
  assert.notEqual(e2.get('c-b')!.version, e1.get('c-b')!.version);
  assert.equal(buildSnapshot(twoServices()).types.get(TYPE_URL.endpoint)!.get('c-b')!.version, e1.get('c-b')!.version, 'equal bytes, equal version');
  assert.equal(versionOf(e1), versionOf(buildSnapshot(twoServices()).types.get(TYPE_URL.endpoint)!));
  assert.notEqual(versionOf(e1, ['c-a']), versionOf(e1));
});

test('snapshot: a nameless or duplicate resource is refused with its type and name', () => {
  assert.throws(() => buildSnapshot({ ...twoServices(), clusters: [edsCluster('x'), edsCluster('x')] }), /Cluster "x": name used twice/);
  assert.throws(() => buildSnapshot({ ...twoServices(), endpoints: [cla('', [1])] }), /ClusterLoadAssignment\[0\]: resource has no name/);
});

test('subscription: wildcard rules per type (table)', () => {
  const rows: [string, readonly string[][], boolean, string[]][] = [
    // type, successive SotW requests' names, wildcard after, names after
    [TYPE_URL.listener, [[]], true, []],
    [TYPE_URL.cluster, [[]], true, []],
    [TYPE_URL.route, [[]], false, []],
    [TYPE_URL.endpoint, [['*']], true, []],
    [TYPE_URL.listener, [['a'], []], false, []], // once named, empty means nothing (legacy rule)
    [TYPE_URL.cluster, [['*', 'x']], true, ['x']],
    [TYPE_URL.route, [['a', 'b'], ['b']], false, ['b']],
  ];
  for (const [type, requests, wildcard, names] of rows) {
    const sub = new Subscription(type as typeof TYPE_URL.listener);
    for (const r of requests) sub.replace(r);
    assert.equal(sub.wildcard, wildcard, `${type} ${JSON.stringify(requests)}`);
    assert.deepEqual([...sub.names], names, `${type} ${JSON.stringify(requests)}`);
  }
  const d = new Subscription(TYPE_URL.cluster);
  assert.deepEqual(d.update(true, [], []), []);
  assert.equal(d.wildcard, true);
  assert.deepEqual(d.update(false, ['x'], ['*']), ['x']);
  assert.equal(d.wildcard, false);
});

test('subscription: SotW streams with equal name lists share one set; changing one leaves the others alone', () => {
  const a = new Subscription(TYPE_URL.endpoint); const b = new Subscription(TYPE_URL.endpoint);
  a.replace(['x', 'y']); b.replace(['y', 'x']);
  assert.equal(a.names, b.names, 'one set for both');
  assert.equal(a.key(), b.key());
  b.replace(['x']);
  assert.deepEqual([...a.names].sort(), ['x', 'y']);
  assert.deepEqual([...b.names], ['x']);
  const c = new Subscription(TYPE_URL.endpoint); c.replace(['x', 'y']);
  c.update(false, ['z'], []);
  assert.deepEqual([...a.names].sort(), ['x', 'y'], 'a Delta-style change copies the shared set first');
  assert.deepEqual([...c.names].sort(), ['x', 'y', 'z']);
});

test('deltaChange: sends what differs from what the client has, removes what is gone or uncovered (table)', () => {
  const target = buildSnapshot(twoServices()).types.get(TYPE_URL.endpoint)!;
  const va = target.get('c-a')!.version;
  const all = new Subscription(TYPE_URL.endpoint); all.update(true, ['*'], []);
  const onlyA = new Subscription(TYPE_URL.endpoint); onlyA.update(true, ['c-a'], []);
  const rows: [string, Map<string, string>, Subscription, string[], string[]][] = [
    ['fresh client', new Map(), all, ['c-a', 'c-b'], []],
    ['has a current', new Map([['c-a', va]]), all, ['c-b'], []],
    ['has a stale', new Map([['c-a', 'old']]), onlyA, ['c-a'], []],
    ['has a vanished one', new Map([['c-gone', 'v']]), all, ['c-a', 'c-b'], ['c-gone']],
    ['has one no longer subscribed', new Map([['c-a', va], ['c-b', 'v']]), onlyA, [], ['c-b']],
  ];
  for (const [what, has, sub, updated, removed] of rows) {
    const ch = deltaChange(has, target, sub);
    assert.deepEqual(ch.updated.map((r) => r.name), updated, what);
    assert.deepEqual(ch.removed, removed, what);
  }
});

test('deltaChangeSince: for a client brought to the previous snapshot, the same change as deltaChange (table)', () => {
  const s1 = buildSnapshot(twoServices());
  const s2 = buildSnapshot({ ...twoServices(), endpoints: [cla('c-a', [8001]), cla('c-b', [9999]), cla('c-new', [1])] }, s1);
  const s3 = buildSnapshot({ ...twoServices(), endpoints: [cla('c-a', [7777])] }, s2);
  const sub = (names: string[]) => { const x = new Subscription(TYPE_URL.endpoint); x.update(true, names, []); return x; };
  const rows: [string, ReturnType<typeof buildSnapshot>, ReturnType<typeof buildSnapshot>, Subscription, string[], string[]][] = [
    ['one changed, one added (wildcard)', s1, s2, sub(['*']), ['c-b', 'c-new'], []],
    ['changed but not subscribed', s1, s2, sub(['c-a']), [], []],
    ['one changed, two gone', s2, s3, sub(['*']), ['c-a'], ['c-b', 'c-new']],
    ['gone but never had it', s2, s3, sub(['c-a']), ['c-a'], []],
    ['nothing changed', s2, s2, sub(['*']), [], []],
  ];
  for (const [what, from, to, sb, updated, removed] of rows) {
    const before = from.types.get(TYPE_URL.endpoint)!; const target = to.types.get(TYPE_URL.endpoint)!;
    // What the client has after the previous push: what the subscription selects of `before`.
    const has = new Map(sb.select(before).map((r) => [r.name, r.version]));
    const fast = deltaChangeSince(has, before, target, sb);
    const full = deltaChange(has, target, sb);
    assert.deepEqual(fast.updated.map((r) => r.name).sort(), updated, what);
    assert.deepEqual(fast.removed.sort(), removed, what);
    assert.deepEqual(full.updated.map((r) => r.name).sort(), updated, `${what} (deltaChange)`);
    assert.deepEqual(full.removed.sort(), removed, `${what} (deltaChange)`);
  }
});

test('wire: hand-assembled responses decode as the generated messages', async () => {
  const { fromBinary } = await import('@bufbuild/protobuf');
  const { DiscoveryResponseSchema, DeltaDiscoveryResponseSchema } = await import('../../../src/envoy/generated/envoy/service/discovery/v3/discovery_pb.js');
  const { sotwResponse, sotwResourcesField, deltaResponse } = await import('../../../src/control/xds/wire.js');
  const clusters = buildSnapshot(twoServices()).types.get(TYPE_URL.cluster)!;
  const all = [...clusters.values()];
  const s = fromBinary(DiscoveryResponseSchema, sotwResponse('v1', TYPE_URL.cluster, 'n7', sotwResourcesField(all)));
  assert.equal(s.versionInfo, 'v1'); assert.equal(s.typeUrl, TYPE_URL.cluster); assert.equal(s.nonce, 'n7');
  assert.deepEqual(s.resources.map((a) => a.typeUrl), [TYPE_URL.cluster, TYPE_URL.cluster]);
  assert.deepEqual(s.resources.map((a) => Buffer.from(a.value)), all.map((r) => Buffer.from(toBinary(ClusterSchema, r.message as never))));
  const d = fromBinary(DeltaDiscoveryResponseSchema, deltaResponse('sys', TYPE_URL.cluster, 'n8', all.slice(1), ['gone', 'é-ünicode']));
  assert.equal(d.systemVersionInfo, 'sys'); assert.equal(d.nonce, 'n8');
  assert.deepEqual(d.resources.map((r) => [r.name, r.version]), [['c-b', all[1]!.version]]);
  assert.deepEqual(d.removedResources, ['gone', 'é-ünicode']);
  const empty = fromBinary(DiscoveryResponseSchema, sotwResponse('v0', TYPE_URL.route, '1', sotwResourcesField([])));
  assert.deepEqual(empty.resources, []);
});
