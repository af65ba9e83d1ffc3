import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findProxy, renderProxyConfig, renderProxyStatus, type SyncEntry } from '../../src/cli/proxy-status.js';

const T = 'type.googleapis.com/envoy.config.';
const entry = (name: string, types: SyncEntry['types']): SyncEntry => ({
  id: `sidecar~127.0.0.1~${name}.default~default.svc.cluster.local`,
  identity: { name, namespace: 'default' },
  stream: 'delta',
  connectedAt: '2026-01-01T00:00:00Z',
  lastPushAt: '2026-01-01T00:00:50Z',
  types,
});

test('proxy-status shows each type per proxy and lists the NACKs with their reasons', () => {
  const text = renderProxyStatus([
    entry('reviews-v1', { [`${T}cluster.v3.Cluster`]: { state: 'SYNCED' }, [`${T}listener.v3.Listener`]: { state: 'NACK', lastNack: { message: 'listener virtualOutbound: bad', at: '' } } }),
    entry('details-v1', { [`${T}cluster.v3.Cluster`]: { state: 'STALE' } }),
  ], Date.parse('2026-01-01T00:01:00Z'));
  const lines = text.split('\n');
  assert.match(lines[0]!, /^NAME\s+XDS\s+CDS\s+LDS\s+EDS\s+RDS\s+LAST PUSH\s+NODE ID$/);
  assert.match(lines[1]!, /^details-v1\.default\s+DELTA\s+STALE\s+IGNORED\s+IGNORED\s+IGNORED\s+10s ago/);
  assert.match(lines[2]!, /^reviews-v1\.default\s+DELTA\s+SYNCED\s+NACK\s+/);
  assert.match(text, /reviews-v1\.default LDS \(NACK\): listener virtualOutbound: bad/);
  assert.equal(renderProxyStatus([]), 'No proxies are connected.\n');
});

test('a proxy is found by node id, name.namespace or a unique name', () => {
  const es = [entry('a', {}), entry('b', {})];
  assert.equal((findProxy(es, 'a.default') as SyncEntry).identity.name, 'a');
  assert.equal((findProxy(es, es[1]!.id) as SyncEntry).identity.name, 'b');
  assert.match(findProxy(es, 'c') as string, /no connected proxy "c"/);
});

test('proxy-config tables name clusters, listeners, routes and endpoints as istioctl does', () => {
  const clusters = renderProxyConfig('clusters', [{ name: 'outbound|9080|v2|reviews.default.svc.cluster.local', type: 'EDS' }, { name: 'BlackHoleCluster', type: 'STATIC' }]);
  assert.match(clusters, /reviews\.default\.svc\.cluster\.local\s+9080\s+v2\s+outbound\s+EDS/);
  assert.match(clusters, /BlackHoleCluster\s+-\s+-\s+-\s+STATIC/);
  const listeners = renderProxyConfig('listeners', [{
    name: '0.0.0.0_9080', bindToPort: false, address: { socketAddress: { address: '0.0.0.0', portValue: 9080 } },
    filterChains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typedConfig: { rds: { routeConfigName: '9080' } } }] }],
  }]);
  assert.match(listeners, /0\.0\.0\.0_9080\s+0\.0\.0\.0\s+9080\s+no\s+Route: 9080/);
  const routes = renderProxyConfig('routes', [{ name: '9080', virtualHosts: [{ name: 'reviews:9080', domains: ['a', 'b', 'c', 'd'], routes: [{}, {}] }] }]);
  assert.match(routes, /9080\s+reviews:9080\s+a, b, c \+1 more\s+2/);
  const eps = renderProxyConfig('endpoints', [{ clusterName: 'outbound|9080||ratings', endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: 4000 } } }, loadBalancingWeight: 2 }] }] }]);
  assert.match(eps, /127\.0\.0\.1:4000\s+HEALTHY\s+2\s+outbound\|9080\|\|ratings/);
});
