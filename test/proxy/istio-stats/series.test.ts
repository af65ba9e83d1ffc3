import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EdgeTable, type NamedStats } from '../../../src/proxy/istio-stats/series.js';
import { UNKNOWN_PEER, type PeerNode } from '../../../src/proxy/istio-stats/peer.js';
import type { EdgeLabels } from '../../../src/proxy/istio-stats/labels.js';
import type { StatDescriptor } from '../../../src/proxy/admin/stats.js';

/** Stats that record what was counted under each full name. */
function recordingStats(): NamedStats & { counts: Map<string, number> } {
  const counts = new Map<string, number>();
  const add = (d: StatDescriptor) => (n = 1): void => { counts.set(d.name, (counts.get(d.name) ?? 0) + n); };
  return { counts, counter: (d) => ({ inc: add(d) }), histogram: (d) => ({ record: () => add(d)(1) }) };
}

const peer = (workload: string): PeerNode => ({ ...UNKNOWN_PEER, workload });
const labels = (source: PeerNode, service: string): EdgeLabels => ({
  reporter: 'destination', source, destination: peer('reviews'), sourcePrincipal: 'unknown', destinationPrincipal: 'unknown', destinationService: service, securityPolicy: 'none',
});

test('edges and their series are found by every key, whatever the order of lookups (the last one found is kept)', () => {
  const stats = recordingStats();
  const table = new EdgeTable(stats);
  const a = peer('productpage');
  const b = peer('ratings');
  const keys: [PeerNode, string, string][] = [[a, 'svc-1', 'p'], [a, 'svc-2', 'p'], [b, 'svc-1', 'p'], [a, 'svc-1', 'q']];
  const edges = keys.map(([p, s, k]) => table.add(p, s, k, labels(p, s)));
  // Each lookup after a different one, then the same one twice.
  for (const order of [[0, 1, 2, 3, 0, 0, 3, 3, 1, 2, 2, 1]]) {
    for (const i of order) assert.equal(table.find(...keys[i]!), edges[i], `edge ${i}`);
  }
  assert.equal(table.find(b, 'svc-2', 'p'), undefined);
  assert.equal(table.find(a, 'svc-1', 'p'), edges[0]);
  // Series by outcome: alternating codes and flags never share one; the same outcome always does.
  const e = edges[0]!;
  const outcomes: [number, number][] = [[200, 0], [503, 0], [200, 0], [200, 0], [503, 4], [503, 0], [503, 0]];
  for (const [code, flags] of outcomes) e.http('http', code, undefined, flags, 'none').requests.inc();
  const requests = (code: number, flags: string): number =>
    [...stats.counts].find(([n]) => n.includes(`response_code=.=${code};`) && n.includes(`response_flags=.=${flags};`) && n.endsWith('istio_requests_total'))?.[1] ?? 0;
  assert.equal(requests(200, '-'), 3);
  assert.equal(requests(503, '-'), 3);
  assert.equal(requests(503, 'UT'), 1); // flag bit 2
  assert.equal(e.http('http', 200, undefined, 0, 'none'), e.http('http', 200, undefined, 0, 'none'));
  assert.notEqual(e.http('grpc', 200, 0, 0, 'none'), e.http('http', 200, undefined, 0, 'none'));
});
