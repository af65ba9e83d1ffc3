import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from '../../../src/control/translate/index.js';
import { scopeOfChange, scopeOfChanges } from '../../../src/control/translate/scope.js';
import { buildMesh } from '../../../src/control/registry/mesh.js';
import { GOLDEN_DIR, goldenCase, resourcesJson } from '../mesh-fixtures.js';
import type { Kind, ServiceEntry, VirtualService } from '../../../src/control/config/kinds.js';

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

const se = (spec: Partial<ServiceEntry['spec']> = {}, meta: Partial<ServiceEntry['metadata']> = {}): ServiceEntry => ({
  apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry',
  metadata: { name: 'a', namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z', resourceVersion: '1', ...meta },
  spec: { hosts: ['a.default.svc.cluster.local'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], resolution: 'STATIC', endpoints: [{ address: '10.0.0.1' }], ...spec },
});
const vs: VirtualService = { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'a', namespace: 'default' }, spec: { hosts: ['a'] } };

test('scopeOfChanges: updates of ServiceEntries that change only their endpoints are endpoints-only (table)', () => {
  const moved = { endpoints: [{ address: '10.0.0.2' }] };
  const rows: [string, Parameters<typeof scopeOfChanges>[0], string][] = [
    ['endpoints changed', [{ type: 'updated', previous: se(), resource: se(moved, { resourceVersion: '2' }) }], 'endpoints'],
    ['endpoints of two entries', [{ type: 'updated', previous: se(), resource: se(moved) }, { type: 'updated', previous: se({}, { name: 'b' }), resource: se({ endpoints: [] }, { name: 'b' }) }], 'endpoints'],
    ['endpoint labels changed', [{ type: 'updated', previous: se(), resource: se({ endpoints: [{ address: '10.0.0.1', labels: { version: 'v2' } }] }) }], 'endpoints'],
    ['a port changed too', [{ type: 'updated', previous: se(), resource: se({ ...moved, ports: [{ number: 81, name: 'http', protocol: 'HTTP' }] }) }], 'all'],
    ['resolution changed', [{ type: 'updated', previous: se(), resource: se({ resolution: 'DNS' }) }], 'all'],
    ['a label changed', [{ type: 'updated', previous: se(), resource: se(moved, { labels: { a: 'b' } }) }], 'all'],
    ['nothing but the version', [{ type: 'updated', previous: se(), resource: se({}, { resourceVersion: '2' }) }], 'endpoints'],
    ['created', [{ type: 'created', resource: se() }], 'all'],
    ['deleted', [{ type: 'deleted', resource: se() }], 'all'],
    ['update without its previous', [{ type: 'updated', resource: se() }], 'all'],
    ['with a VirtualService', [{ type: 'updated', previous: se(), resource: se(moved) }, { type: 'updated', previous: vs, resource: vs }], 'all'],
    ['VirtualServices only', [{ type: 'updated', previous: vs, resource: vs }], 'routing'],
    ['nothing', [], 'all'],
  ];
  for (const [name, changes, want] of rows) assert.equal(scopeOfChanges(changes), want, name);
});

/*
 * The premise of an endpoints-only push, on every golden mesh: a ServiceEntry's inline endpoints
 * do not reach listeners or routes (other endpoints, or none, give the same ones), and the
 * endpoints scope gives exactly the clusters and endpoints of a full generate.
 */
for (const name of readdirSync(GOLDEN_DIR).sort()) {
  test(`endpoints scope: ${name}`, () => {
    const { mesh, proxy } = goldenCase(join(GOLDEN_DIR, name));
    const full = resourcesJson(generate(mesh, proxy));
    const scoped = resourcesJson(generate(mesh, proxy, 'endpoints'));
    assert.deepEqual(scoped.clusters, full.clusters);
    assert.deepEqual(scoped.endpoints, full.endpoints);
    if (proxy.generator !== 'grpc') assert.deepEqual([scoped.listeners.length, scoped.routes.length], [0, 0]);
    const variants: [string, (e: ServiceEntry) => ServiceEntry['spec']['endpoints']][] = [
      ['no endpoints', () => []],
      ['one more endpoint', (e) => [...e.spec.endpoints ?? [], { address: e.spec.resolution === 'DNS' || e.spec.resolution === 'DNS_ROUND_ROBIN' ? 'extra.example.com' : '203.0.113.77', labels: { version: 'v9' } }]],
      ['first endpoint relabelled', (e) => (e.spec.endpoints ?? []).map((x, i) => (i === 0 ? { ...x, labels: { ...x.labels, version: 'v2' } } : x))],
    ];
    for (const [what, endpoints] of variants) {
      const serviceEntries = mesh.config.serviceEntries.map((e) => ({ ...e, spec: { ...e.spec, endpoints: endpoints(e) } }));
      const other = resourcesJson(generate(buildMesh({ ...mesh.config, serviceEntries }, mesh.connected), proxy));
      assert.deepEqual(other.listeners, full.listeners, `${what}: listeners do not depend on ServiceEntry endpoints`);
      assert.deepEqual(other.routes, full.routes, `${what}: routes do not depend on ServiceEntry endpoints`);
    }
  });
}
