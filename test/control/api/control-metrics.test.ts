import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControl, type ControlHandle } from '../../../src/control/main.js';
import { createLogger } from '../../../src/control/log.js';
import { AdsTestClient, testNode } from '../xds/ads-client.js';
import { parsePrometheus, total } from '../../support/prometheus-text.js';

// The control plane's own metrics on /metrics, by Istio's names: pushes per xDS type, proxy
// convergence, NACKs per type, config events. A real gRPC ADS client plays the sidecar.
const CLUSTER = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
let control: ControlHandle;
let dir: string;

const serviceEntry = (port: number) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: web, namespace: default }
spec:
  hosts: [web.default.svc.cluster.local]
  ports: [ { number: ${port}, name: http, protocol: HTTP } ]
  resolution: STATIC
  workloadSelector: { labels: { app: web } }
`;

async function apply(yaml: string): Promise<void> {
  const r = await fetch(`http://127.0.0.1:${control.http.port}/api/v1/apply`, { method: 'POST', body: yaml, headers: { 'content-type': 'application/yaml' } });
  assert.equal(r.status, 200, await r.text());
}

async function metrics(): Promise<ReturnType<typeof parsePrometheus>> {
  const r = await fetch(`http://127.0.0.1:${control.http.port}/metrics`);
  return parsePrometheus(await r.text());
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tsmesh-cp-metrics-'));
  control = await startControl({ dataDir: dir, xdsPort: 0, httpPort: 0, log: createLogger('error'), debounce: { quietMs: 10, maxDelayMs: 50 } });
  await apply(serviceEntry(80));
});

after(async () => {
  await control?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('pushes per type, convergence, NACKs per type and config events', async () => {
  let m = await metrics();
  assert.equal(total(m, 'pilot_k8s_cfg_events', { type: 'ServiceEntry', event: 'add' }), 1);
  assert.equal(total(m, 'pilot_xds'), 0);
  const client = AdsTestClient.sotw(control.xdsPort!);
  try {
    client.send({ node: testNode('web-1', { labels: { app: 'web' }, inboundPort: 15006 }), typeUrl: CLUSTER });
    let res = await client.next();
    client.send({ typeUrl: CLUSTER, versionInfo: res.versionInfo, responseNonce: res.nonce });
    // A config change: one push, a CDS response, which the client ACKs (converged) ...
    await apply(serviceEntry(81));
    res = await client.next();
    client.send({ typeUrl: CLUSTER, versionInfo: res.versionInfo, responseNonce: res.nonce });
    const deadline = Date.now() + 10_000;
    while (total(m = await metrics(), 'pilot_proxy_convergence_time_count') < 1) {
      assert.ok(Date.now() < deadline, 'no convergence observed');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(total(m, 'pilot_xds_pushes', { type: 'cds' }) >= 1);
    assert.equal(total(m, 'pilot_proxy_convergence_time_bucket', { le: '+Inf' }), total(m, 'pilot_proxy_convergence_time_count'));
    assert.equal(total(m, 'pilot_k8s_cfg_events', { type: 'ServiceEntry', event: 'update' }), 1);
    assert.equal(total(m, 'pilot_xds'), 1);
    // ... and one it rejects.
    await apply(serviceEntry(82));
    res = await client.next();
    client.send({ typeUrl: CLUSTER, versionInfo: 'old', responseNonce: res.nonce, errorDetail: { code: 3, message: 'no thanks' } });
    while (total(m = await metrics(), 'pilot_total_xds_rejects', { type: 'cds' }) < 1) {
      assert.ok(Date.now() < deadline, 'no NACK counted');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(total(m, 'pilot_total_xds_rejects', { type: 'cds' }), 1);
  } finally {
    client.close();
  }
});
