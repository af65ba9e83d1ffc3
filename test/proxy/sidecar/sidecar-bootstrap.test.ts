import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { equals, toJson } from '@bufbuild/protobuf';
import { BootstrapSchema } from '../../../src/envoy/generated/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { parseBootstrap } from '../../../src/envoy/bootstrap.js';
import { identityOf } from '../../../src/envoy/node-metadata.js';
import { registryFor } from '../../../src/envoy/type-registry.js';
import { compileBootstrap } from '../../../src/proxy/config.js';
import { parseHostPort, sidecarBootstrap, SIDECAR_DEFAULTS, type SidecarOptions } from '../../../src/proxy/sidecar-bootstrap.js';
import { bootstrapYaml, loadSidecarBootstrap } from '../../../src/proxy/sidecar-start.js';
import { repoRoot } from '../../support/proxy.js';

/**
 * Golden files: golden/<case>.json is the proto3 JSON (Envoy field names) of the bootstrap built
 * for that case. Regenerate with UPDATE_GOLDEN=1 and review the diff.
 */
const DIR = join(repoRoot(), 'test/proxy/sidecar/golden');

const base: SidecarOptions = {
  xds: { host: '127.0.0.1', port: 15010 },
  xdsApi: SIDECAR_DEFAULTS.xdsApi,
  name: 'reviews-v1',
  namespace: SIDECAR_DEFAULTS.namespace,
  labels: { app: 'reviews', version: 'v1' },
  serviceAccount: SIDECAR_DEFAULTS.serviceAccount,
  ip: SIDECAR_DEFAULTS.ip,
  outboundPort: SIDECAR_DEFAULTS.outboundPort,
  inboundPort: SIDECAR_DEFAULTS.inboundPort,
  adminPort: SIDECAR_DEFAULTS.adminPort,
  appPorts: [9080],
};

const cases: Record<string, SidecarOptions> = {
  'defaults-sotw-static': base,
  'dns-delta-custom-ports': {
    ...base,
    xds: { host: 'istiod.istio-system.svc', port: 15010 },
    xdsApi: 'delta',
    name: 'ratings-7d9f',
    namespace: 'bookinfo',
    labels: { app: 'ratings', 'topology.istio.io/network': 'n1' },
    serviceAccount: 'bookinfo-ratings',
    ip: '127.0.0.7',
    outboundPort: 25001,
    inboundPort: 25006,
    adminPort: 25000,
    appPorts: [9080, 9090],
  },
};

for (const [name, opts] of Object.entries(cases)) {
  test(`golden sidecar bootstrap: ${name}`, async () => {
    const { bootstrap, typeNames } = sidecarBootstrap(opts);
    const json = toJson(BootstrapSchema, bootstrap, { registry: await registryFor(typeNames), useProtoFieldName: true });
    const file = join(DIR, `${name}.json`);
    const text = `${JSON.stringify(json, null, 2)}\n`;
    if (process.env.UPDATE_GOLDEN) writeFileSync(file, text);
    assert.ok(existsSync(file), `${file} is missing: run with UPDATE_GOLDEN=1`);
    assert.equal(text, readFileSync(file, 'utf8'));
  });
}

test('the node carries the identity the control plane reads back', () => {
  const { bootstrap } = sidecarBootstrap(cases['dns-delta-custom-ports']!);
  const id = identityOf({ id: bootstrap.node!.id, metadata: bootstrap.node!.metadata });
  assert.equal(id.id, 'sidecar~127.0.0.7~ratings-7d9f.bookinfo~bookinfo.svc.cluster.local');
  assert.equal(id.name, 'ratings-7d9f');
  assert.equal(id.namespace, 'bookinfo');
  assert.equal(id.serviceAccount, 'bookinfo-ratings');
  assert.deepEqual(id.labels, { app: 'ratings', 'topology.istio.io/network': 'n1' });
  assert.deepEqual(id.ips, ['127.0.0.7']);
  assert.equal(id.inboundPort, 25006);
  assert.equal(id.outboundPort, 25001);
  assert.deepEqual(id.appPorts, [9080, 9090]);
  assert.equal(bootstrap.node!.cluster, 'ratings.bookinfo');
});

test('xds-grpc is STATIC for an IP and STRICT_DNS for a name', () => {
  const type = (host: string): unknown => {
    const c = sidecarBootstrap({ ...base, xds: { host, port: 15010 } }).bootstrap.staticResources!.clusters[0]!;
    return c.clusterDiscoveryType.value;
  };
  assert.equal(type('10.0.0.1'), 0 /* STATIC */);
  assert.equal(type('::1'), 0);
  assert.equal(type('istiod.istio-system.svc'), 1 /* STRICT_DNS */);
});

test('everything in the sidecar bootstrap is something tsmesh implements', async () => {
  const loaded = await loadSidecarBootstrap(cases['dns-delta-custom-ports']!);
  const spec = compileBootstrap(loaded.bootstrap, loaded.registry);
  assert.ok(spec.xds, 'ADS over the xds-grpc cluster');
  assert.deepEqual(spec.admin, { address: '127.0.0.1', port: 25000 });
  assert.equal(spec.clusters[0]!.name, 'xds-grpc');
});

test('the printed YAML loads back as the same bootstrap (what -c FILE would run)', async () => {
  const loaded = await loadSidecarBootstrap(base);
  const yaml = await bootstrapYaml(loaded);
  assert.match(yaml, /"@type": type.googleapis.com\/envoy.extensions.upstreams.http.v3.HttpProtocolOptions\n\s+explicit_http_config:/);
  const again = await parseBootstrap(yaml);
  assert.ok(equals(BootstrapSchema, again.bootstrap, loaded.bootstrap, { registry: loaded.registry }));
});

test('parseHostPort', () => {
  const table: [string, ReturnType<typeof parseHostPort>][] = [
    ['127.0.0.1:15010', { host: '127.0.0.1', port: 15010 }],
    ['istiod.istio-system.svc:15012', { host: 'istiod.istio-system.svc', port: 15012 }],
    ['localhost:1', { host: 'localhost', port: 1 }],
    ['[::1]:15010', { host: '::1', port: 15010 }],
  ];
  for (const [s, want] of table) assert.deepEqual(parseHostPort(s), want, s);
  for (const bad of ['127.0.0.1', ':15010', 'host:0', 'host:65536', 'host:port', '::1:15010', '[example.com]:1', 'a_b:1', 'http://x:1', 'x:1/']) {
    assert.equal(typeof parseHostPort(bad), 'string', bad);
  }
});
