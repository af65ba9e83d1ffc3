import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { clone, create, type DescMessage, type Message } from '@bufbuild/protobuf';
import { anyPack, anyUnpack } from '@bufbuild/protobuf/wkt';
import { ListenerSchema, type Listener } from '../../../src/envoy/generated/envoy/config/listener/v3/listener_pb.js';
import { ClusterSchema, Cluster_DiscoveryType } from '../../../src/envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { HttpConnectionManagerSchema } from '../../../src/envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { envoyRegistry } from '../../../src/envoy/full-registry.js';
import { findUnsupported } from '../../../src/envoy/support.js';
import { SUPPORTED } from '../../../src/proxy/supported.js';
import { compileCluster } from '../../../src/proxy/upstream/cluster.js';
import { compileListener } from '../../../src/proxy/listener/compile.js';
import type { MeshSnapshot } from '../../../src/control/registry/model.js';
import { generate } from '../../../src/control/translate/index.js';
import type { ProxyIdentity } from '../../../src/envoy/node-metadata.js';
import { GOLDEN_DIR, goldenCase } from '../mesh-fixtures.js';
import { asDelivered, asDeliveredListener } from './delivered.js';
import { BUILT_IN_HTTP_FILTERS, loadHttpFilters } from '../../../src/proxy/http/filters/registry.js';
import { loadNetworkRbac, NETWORK_RBAC } from '../../../src/proxy/tcp/rbac-load.js';
import { loadTracing, OPENTELEMETRY_CONFIG, ZIPKIN_CONFIG } from '../../../src/proxy/tracing/load.js';
import { ACCESS_LOGGER_TYPES, loadAccessLoggers } from '../../../src/proxy/access-log.js';

// The proxy loads a filter's module when a config first names its type (registryFor); these
// resources are compiled directly, so every filter loaded on first use is loaded first.
before(() => Promise.all([
  loadHttpFilters(BUILT_IN_HTTP_FILTERS.flatMap(([names]) => names)),
  loadNetworkRbac([NETWORK_RBAC]),
  loadTracing([OPENTELEMETRY_CONFIG, ZIPKIN_CONFIG]),
  loadAccessLoggers(ACCESS_LOGGER_TYPES),
]));

/*
 * Every listener and cluster generated for a sidecar must be accepted by OUR proxy: its
 * compile functions (compileListener / compileCluster) and its support table (no field it does
 * not implement). Some shapes are being added to the proxy in parallel or by the lead; those
 * are named below with the reason, turned into the shape the proxy will see (RDS routes
 * inlined, EDS endpoints as load_assignment) or left out, and everything else is checked.
 */

/** Support-table paths the proxy does not list yet, with who adds them. */
const PENDING_FIELDS: readonly [RegExp, string][] = [
  [/\.bind_to_port$/, 'sidecar flags helper: listener handoff (bind_to_port false)'],
  [/\.use_original_dst$/, 'sidecar flags helper: listener handoff (use_original_dst)'],
  [/typed_extension_protocol_options\[[^\]]+\]\.common_http_protocol_options$/, 'proxy: upstream idle_timeout / max_requests_per_connection (DestinationRule connectionPool.http)'],
  [/http2_protocol_options\.max_concurrent_streams$/, 'proxy: upstream HTTP/2 max_concurrent_streams (connectionPool.http.maxConcurrentStreams)'],
  [/\.transport_socket(_matches)?$/, 'tls-dp helper: TLS transport sockets (mTLS, DestinationRule tls, JWKS over https)'],
  [/\.lb_endpoints\[\d+\]\.metadata$/, 'tls-dp helper: endpoint metadata for transport_socket_matches (auto mTLS)'],
  [/\.(forward_client_cert_details|set_current_client_cert_details)$/, 'tls-dp helper: x-forwarded-client-cert on inbound mTLS chains'],
  [/\.typed_config\.(rules|stat_prefix)$/, 'rbac-jwt helper: envoy.filters.http.rbac / envoy.filters.network.rbac / jwt_authn rules'],
  [/\.typed_config\.providers$/, 'rbac-jwt helper: jwt_authn providers'],
];

/** Pending in the proxy: TLS transport sockets (tls-dp helper), RBAC and jwt_authn filters (rbac-jwt helper). The rest must compile now. */
const PENDING_FILTERS = new Set(['envoy.filters.network.rbac', 'envoy.filters.http.rbac', 'envoy.filters.http.jwt_authn']);

function withoutPendingSecurity(l: Listener): Listener {
  const out = clone(ListenerSchema, l);
  for (const ch of out.filterChains) {
    ch.transportSocket = undefined;
    ch.filters = ch.filters.filter((f) => !PENDING_FILTERS.has(f.name));
    for (const f of ch.filters) {
      const hcm = f.configType.case === 'typedConfig' ? anyUnpack(f.configType.value, HttpConnectionManagerSchema) : undefined;
      if (!hcm) continue;
      hcm.httpFilters = hcm.httpFilters.filter((h) => !PENDING_FILTERS.has(h.name));
      f.configType = { case: 'typedConfig', value: anyPack(HttpConnectionManagerSchema, hcm) };
    }
  }
  return out;
}

function sidecarCases(): { name: string; mesh: MeshSnapshot; proxy: ProxyIdentity }[] {
  return readdirSync(GOLDEN_DIR).sort().map((name) => ({ name, ...goldenCase(join(GOLDEN_DIR, name)) })).filter((c) => c.proxy.generator === 'sidecar');
}

function unsupported(msg: Message, desc: DescMessage, path: string): string[] {
  return findUnsupported(msg, desc, SUPPORTED, envoyRegistry, path)
    .map((e) => e.path)
    .filter((p) => !PENDING_FIELDS.some(([re]) => re.test(p)));
}

for (const c of sidecarCases()) {
  test(`proxy accepts the generated clusters: ${c.name}`, () => {
    const res = generate(c.mesh, c.proxy);
    let checked = 0;
    for (const cluster of res.clusters) {
      // ORIGINAL_DST (PassthroughCluster, resolution NONE without endpoints): the lead adds it.
      if (cluster.clusterDiscoveryType.case === 'type' && cluster.clusterDiscoveryType.value === Cluster_DiscoveryType.ORIGINAL_DST) continue;
      const path = `clusters[${cluster.name}]`;
      const delivered = asDelivered(cluster, res.endpoints);
      assert.deepEqual(unsupported(delivered, ClusterSchema, path), [], `${path}: fields the proxy does not implement`);
      assert.doesNotThrow(() => compileCluster(delivered, path), `${path} must compile`);
      checked++;
    }
    assert.ok(checked > 0);
  });

  test(`proxy accepts the generated listeners and routes: ${c.name}`, () => {
    const res = generate(c.mesh, c.proxy);
    assert.ok(res.listeners.length > 0);
    for (const l of res.listeners) {
      const path = `listeners[${l.name}]`;
      const delivered = asDeliveredListener(l, res.routes);
      assert.deepEqual(unsupported(delivered, ListenerSchema, path), [], `${path}: fields the proxy does not implement`);
      assert.doesNotThrow(() => compileListener(withoutPendingSecurity(delivered), path), `${path} must compile`);
    }
    // Every route configuration is reachable from a listener (none is generated for nothing).
    const named = new Set<string>();
    for (const l of res.listeners) for (const ch of l.filterChains) for (const f of ch.filters) {
      const hcm = f.configType.case === 'typedConfig' ? anyUnpack(f.configType.value, HttpConnectionManagerSchema) : undefined;
      if (hcm?.routeSpecifier.case === 'rds') named.add(hcm.routeSpecifier.value.routeConfigName);
    }
    assert.deepEqual(res.routes.map((r) => r.name).filter((n) => !named.has(n)), []);
  });
}

test('the acceptance check can fail: a field the proxy does not implement is reported', () => {
  const l = create(ListenerSchema, { name: 'x', perConnectionBufferLimitBytes: 1 });
  assert.deepEqual(unsupported(l, ListenerSchema, 'l'), ['l.per_connection_buffer_limit_bytes']);
});
