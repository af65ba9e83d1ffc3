import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControl, type ControlHandle } from '../../../src/control/main.js';
import { createLogger } from '../../../src/control/log.js';
import { AdsTestClient, testNode } from '../xds/ads-client.js';

// A workload put in the mesh by `tsmesh run` (node metadata INTERCEPTION_MODE REDIRECT and
// TSMESH_SERVICE) over a real gRPC ADS stream: its service exists with a VIP, and it becomes an
// endpoint only once its sidecar is ready (it ACKed its listeners).
const LISTENER = 'type.googleapis.com/envoy.config.listener.v3.Listener';
let control: ControlHandle;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tsmesh-run-svc-'));
  control = await startControl({ dataDir: dir, xdsPort: 0, httpPort: 0, log: createLogger('error'), debounce: { quietMs: 10, maxDelayMs: 50 } });
});

after(async () => {
  await control?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Registry { services: { hostname: string; vips?: string[]; ports: { number: number; protocol: string }[] }[]; endpoints: Record<string, { address: string; port: number }[]> }
const registry = async (): Promise<Registry> => (await (await fetch(`http://127.0.0.1:${control.http.port}/debug/registry`)).json()) as Registry;
const hosts = async (): Promise<string> => (await fetch(`http://127.0.0.1:${control.http.port}/api/v1/hosts?namespace=default`)).text();

test('a captured workload is no endpoint until its sidecar ACKs its listeners; then its service resolves to a VIP', async () => {
  const c = AdsTestClient.sotw(control.xdsPort!);
  try {
    c.send({ node: testNode('reviews-abcde', { ips: ['198.18.0.7'], interceptionMode: 'REDIRECT', inboundPort: 15006, outboundPort: 15001, appPorts: [9080], service: { name: 'reviews', ports: [{ number: 9080, protocol: 'HTTP' }] } }), typeUrl: LISTENER });
    const lds = await c.next();
    // Connected, configured, not ready: nothing may send it traffic yet.
    assert.ok(!(await registry()).services.some((s) => s.hostname === 'reviews.default.svc.cluster.local'));
    assert.doesNotMatch(await hosts(), /reviews/);
    c.send({ typeUrl: LISTENER, versionInfo: lds.versionInfo, responseNonce: lds.nonce });
    let reg: Registry | undefined;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
      reg = await registry();
      if (reg.services.some((s) => s.hostname === 'reviews.default.svc.cluster.local')) break;
    }
    const svc = reg!.services.find((s) => s.hostname === 'reviews.default.svc.cluster.local');
    assert.ok(svc, 'the service appears once the sidecar is ready');
    assert.deepEqual(svc.ports.map((p) => [p.number, p.protocol]), [[9080, 'HTTP']]);
    assert.match(svc.vips?.[0] ?? '', /^198\.19\.\d+\.\d+$/);
    // Captured: callers dial the app's own port; iptables takes it to the sidecar.
    assert.deepEqual(reg!.endpoints['reviews.default.svc.cluster.local:9080']?.map((e) => `${e.address}:${e.port}`), ['198.18.0.7:9080']);
    assert.match(await hosts(), new RegExp(`^${svc.vips![0]!.replace(/\./g, '\\.')} reviews\\.default\\.svc\\.cluster\\.local reviews\\.default\\.svc reviews\\.default reviews$`, 'm'));
  } finally {
    c.close();
  }
});
