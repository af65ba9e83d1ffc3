import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ForwardAction } from '../../../../src/proxy/http/route/action.js';
import { req, table, withRoutes } from './fixtures.js';

function action(clusters: string): ForwardAction {
  const t = table(withRoutes(`  - match: { prefix: / }
    route: { weighted_clusters: { clusters: ${clusters} } }`));
  const a = t.select(req('h', '/'))!.route.action;
  assert.equal(a.kind, 'forward');
  return a as ForwardAction;
}

describe('weighted_clusters', () => {
  it('picks by cumulative weight intervals', () => {
    const a = action('[{ name: a, weight: 1 }, { name: zero, weight: 0 }, { name: b, weight: 3 }]');
    const cases: Array<[number, string]> = [[0, 'a'], [0.2499, 'a'], [0.25, 'b'], [0.5, 'b'], [0.9999999, 'b']];
    for (const [r, want] of cases) assert.equal(a.pickCluster(r), want, String(r));
    assert.equal(a.weightedClusters?.totalWeight, 4);
  });

  it('a weight-0 cluster is never picked; the split follows the weights', () => {
    const a = action('[{ name: a, weight: 10 }, { name: never, weight: 0 }, { name: b, weight: 90 }]');
    const counts: Record<string, number> = {};
    for (let i = 0; i < 1000; i++) { const n = a.pickCluster(i / 1000); counts[n] = (counts[n] ?? 0) + 1; }
    assert.deepEqual(counts, { a: 100, b: 900 });
  });

  it('out-of-range random values are clamped', () => {
    const a = action('[{ name: a, weight: 1 }, { name: b, weight: 1 }]');
    assert.equal(a.pickCluster(1), 'b');
    assert.equal(a.pickCluster(-0.5), 'a');
    assert.equal(a.pickCluster(Number.NaN), 'a');
  });

  it('pickClusterEntry returns one shared object per cluster', () => {
    const a = action('[{ name: a, weight: 1 }, { name: b, weight: 1 }]');
    assert.equal(a.pickClusterEntry(0.1), a.pickClusterEntry(0.2));
    assert.equal(a.pickClusterEntry(0.9).name, 'b');
  });

  it('a matching deprecated total_weight is accepted', () => {
    const t = table(withRoutes(`  - match: { prefix: / }
    route: { weighted_clusters: { total_weight: 3, clusters: [{ name: a, weight: 1 }, { name: b, weight: 2 }] } }`));
    assert.ok(t.select(req('h', '/')));
  });
});
