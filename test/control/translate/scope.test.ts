import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { generate, scopeOfChange } from '../../../src/control/translate/index.js';
import { buildMesh } from '../../../src/control/registry/mesh.js';
import { GOLDEN_DIR, goldenCase, resourcesJson } from '../mesh-fixtures.js';
import type { Kind } from '../../../src/control/config/kinds.js';

test('scopeOfChange: only VirtualService changes are routing-only (table)', () => {
  const rows: [readonly Kind[], string][] = [
    [['VirtualService'], 'routing'],
    [['VirtualService', 'VirtualService'], 'routing'],
    [['VirtualService', 'DestinationRule'], 'all'],
    [['ServiceEntry'], 'all'],
    [['WorkloadEntry'], 'all'],
    [['PeerAuthentication'], 'all'],
    [[], 'all'],
  ];
  for (const [kinds, want] of rows) assert.equal(scopeOfChange(kinds), want, kinds.join(','));
});

/*
 * The premise of a routing-only push, on every golden mesh: VirtualServices do not reach
 * clusters or endpoints (the same mesh without any gives the same ones), and the routing scope
 * gives exactly the listeners and routes of a full generate.
 */
for (const name of readdirSync(GOLDEN_DIR).sort()) {
  test(`routing scope: ${name}`, () => {
    const { mesh, proxy } = goldenCase(join(GOLDEN_DIR, name));
    const full = resourcesJson(generate(mesh, proxy));
    const routing = resourcesJson(generate(mesh, proxy, 'routing'));
    assert.deepEqual(routing.listeners, full.listeners);
    assert.deepEqual(routing.routes, full.routes);
    const noVs = resourcesJson(generate(buildMesh({ ...mesh.config, virtualServices: [] }, mesh.connected), proxy));
    assert.deepEqual(noVs.clusters, full.clusters, 'clusters do not depend on VirtualServices');
    assert.deepEqual(noVs.endpoints, full.endpoints, 'endpoints do not depend on VirtualServices');
    if (proxy.generator !== 'grpc') assert.deepEqual([routing.clusters.length, routing.endpoints.length], [0, 0]);
  });
}
