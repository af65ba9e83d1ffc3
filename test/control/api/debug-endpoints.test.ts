import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControl, type ControlHandle } from '../../../src/control/main.js';
import { createLogger } from '../../../src/control/log.js';
import { AdsTestClient, testNode } from '../xds/ads-client.js';

// The control plane's operator endpoints over real sockets: a sidecar (a real gRPC ADS client)
// connects, and /metrics, /debug/syncz, /debug/registry and /debug/config_dump show it.
const CLUSTER = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
let control: ControlHandle;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tsmesh-debug-'));
  control = await startControl({ dataDir: dir, xdsPort: 0, httpPort: 0, log: createLogger('error'), debounce: { quietMs: 10, maxDelayMs: 50 } });
  const yaml = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: web, namespace: default }
spec:
  hosts: [web.default.svc.cluster.local]
  ports: [ { number: 80, name: http, protocol: HTTP } ]
  resolution: STATIC
  workloadSelector: { labels: { app: web } }
`;
  const r = await fetch(`http://127.0.0.1:${control.http.port}/api/v1/apply`, { method: 'POST', body: yaml, headers: { 'content-type': 'application/yaml' } });
  assert.equal(r.status, 200, await r.text());
});

after(async () => {
  await control?.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = async (path: string): Promise<{ status: number; text: string }> => {
  const r = await fetch(`http://127.0.0.1:${control.http.port}${path}`);
  return { status: r.status, text: await r.text() };
};

test('a connected sidecar shows in /metrics, /debug/syncz, /debug/registry and /debug/config_dump', async () => {
  const before = await get('/metrics');
  assert.match(before.text, /^pilot_xds 0$/m);
  assert.match(before.text, /# TYPE pilot_total_xds_rejects counter/);
  const client = AdsTestClient.sotw(control.xdsPort!);
  try {
    client.send({ node: testNode('web-1', { labels: { app: 'web' }, inboundPort: 15006 }), typeUrl: CLUSTER });
    const res = await client.next();
    assert.ok(res.resources.length > 0);
    client.send({ typeUrl: CLUSTER, versionInfo: res.versionInfo, responseNonce: res.nonce });
    const deadline = Date.now() + 10_000;
    let syncz: { identity: { name: string }; types: Record<string, { state: string }> }[] = [];
    while (Date.now() < deadline) {
      syncz = JSON.parse((await get('/debug/syncz')).text) as typeof syncz;
      if (syncz[0]?.types[CLUSTER]?.state === 'SYNCED') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(syncz.length, 1);
    assert.equal(syncz[0]!.identity.name, 'web-1');
    assert.equal(syncz[0]!.types[CLUSTER]!.state, 'SYNCED');
    assert.match((await get('/metrics')).text, /^pilot_xds 1$/m);
    // Auto-registration: the sidecar is the service's endpoint, at its inbound port.
    const registry = JSON.parse((await get('/debug/registry')).text) as { endpoints: Record<string, { address: string; port: number }[]> };
    assert.deepEqual(registry.endpoints['web.default.svc.cluster.local:80']?.map((e) => `${e.address}:${e.port}`), ['10.0.0.1:15006']);
    const id = encodeURIComponent(testNode('web-1').id);
    const dump = JSON.parse((await get(`/debug/config_dump?proxy=${id}`)).text) as { clusters: { name: string }[] };
    assert.ok(dump.clusters.some((c) => c.name === 'outbound|80||web.default.svc.cluster.local'));
  } finally {
    client.close();
  }
});

test('config_dump needs a connected proxy', async () => {
  assert.equal((await get('/debug/config_dump')).status, 400);
  assert.equal((await get('/debug/config_dump?proxy=nobody')).status, 404);
});
