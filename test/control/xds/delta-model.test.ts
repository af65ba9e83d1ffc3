import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, fromBinary } from '@bufbuild/protobuf';
import { DeltaDiscoveryRequestSchema, DeltaDiscoveryResponseSchema } from '../../../src/envoy/generated/envoy/service/discovery/v3/discovery_pb.js';
import { TYPE_URL } from '../../../src/control/translate/types.js';
import { DeltaStream } from '../../../src/control/xds/delta-stream.js';
import { newCounters } from '../../../src/control/xds/counters.js';
import { buildSnapshot, type Snapshot } from '../../../src/control/xds/snapshot.js';
import type { StreamContext } from '../../../src/control/xds/stream.js';
import { cla, edsCluster, listener, route } from './fixtures.js';

/*
 * A Delta stream driven in-process by random subscription changes, snapshot changes, ACKs and
 * reconnects with initial_resource_versions, against a model of the client: after every
 * response the client (applying `resources` and `removed_resources`, as Envoy does) must hold
 * exactly what it subscribes to of the current snapshot, in the current versions; a response
 * is sent only when that was not already so. Seeded, so a failure replays.
 */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
}

const NAMES = ['a', 'b', 'c', 'd', 'e', 'f'];
const EDS = TYPE_URL.endpoint;

function snapshotOf(rand: () => number, previous?: Snapshot): Snapshot {
  const present = NAMES.filter(() => rand() < 0.75);
  return buildSnapshot({
    listeners: [listener('l', 'r')], routes: [route('r', 'a')], clusters: [edsCluster('a')],
    endpoints: present.map((n) => cla(n, [8000 + Math.floor(rand() * 3)])),
  }, previous);
}

for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
  test(`delta stream against a client model (seed ${seed})`, () => {
    const rand = rng(seed);
    const ctx: StreamContext = { counters: newCounters(), now: () => new Date(0), onNack: () => {}, onAck: () => {} };
    let snap = snapshotOf(rand);
    let stream: DeltaStream;
    const client = new Map<string, string>(); // name → version, as the client holds them
    const subscribed = new Set<string>();
    let lastNonce = '';
    let responses: Uint8Array[] = [];
    const open = (): void => {
      stream = new DeltaStream(ctx, (bytes) => responses.push(bytes));
      stream.attach(snap);
      responses = [];
      stream.handle(create(DeltaDiscoveryRequestSchema, { typeUrl: EDS, resourceNamesSubscribe: [...subscribed], initialResourceVersions: Object.fromEntries(client) }));
    };
    const apply = (step: string): void => {
      for (const bytes of responses) {
        const res = fromBinary(DeltaDiscoveryResponseSchema, bytes);
        for (const r of res.resources) client.set(r.name, r.version);
        for (const n of res.removedResources) client.delete(n);
        lastNonce = res.nonce;
      }
      responses = [];
      const want = new Map<string, string>();
      const current = snap.types.get(EDS)!;
      for (const n of subscribed) { const r = current.get(n); if (r) want.set(n, r.version); }
      assert.deepEqual(new Map([...client].filter(([n]) => subscribed.has(n))), want, `${step}: the client holds its subscription of the snapshot`);
      for (const n of client.keys()) assert.ok(subscribed.has(n) || !current.has(n) || !want.has(n), `${step}: ${n} kept though unsubscribed`);
      assert.deepEqual(stream.sentResources(EDS).map((r) => r.name).sort(), [...want.keys()].sort(), `${step}: sentResources`);
    };
    for (const n of NAMES) if (rand() < 0.5) subscribed.add(n);
    open();
    apply('open');
    for (let i = 0; i < 60; i++) {
      const pick = rand();
      if (pick < 0.3) {
        snap = snapshotOf(rand, snap);
        stream!.update(snap);
        apply(`step ${i}: snapshot`);
      } else if (pick < 0.55) {
        const n = NAMES[Math.floor(rand() * NAMES.length)]!;
        if (subscribed.has(n)) continue;
        subscribed.add(n);
        stream!.handle(create(DeltaDiscoveryRequestSchema, { typeUrl: EDS, resourceNamesSubscribe: [n] }));
        apply(`step ${i}: subscribe ${n}`);
      } else if (pick < 0.75) {
        const n = NAMES[Math.floor(rand() * NAMES.length)]!;
        if (!subscribed.has(n)) continue;
        subscribed.delete(n);
        client.delete(n); // a client forgets what it unsubscribes
        stream!.handle(create(DeltaDiscoveryRequestSchema, { typeUrl: EDS, resourceNamesUnsubscribe: [n] }));
        apply(`step ${i}: unsubscribe ${n}`);
      } else if (pick < 0.92) {
        stream!.handle(create(DeltaDiscoveryRequestSchema, { typeUrl: EDS, responseNonce: lastNonce }));
        apply(`step ${i}: ACK`);
      } else {
        open(); // reconnect: the client hands back what it has
        apply(`step ${i}: reconnect`);
      }
    }
  });
}
