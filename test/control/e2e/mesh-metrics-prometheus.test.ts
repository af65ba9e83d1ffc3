import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REVIEWS_SERVICE_ENTRY, REVIEWS_URL, keepAliveAgent, startMesh, until, viaProxy, type Mesh } from '../../support/running-mesh.js';
import { freePort } from '../../support/net.js';

/*
 * Istio's standard metrics as an operator reads them: a real Prometheus server (Debian's
 * `prometheus`, scripts/ensure-system-deps.sh) scrapes the /stats/prometheus port of two
 * sidecars of a running mesh, a client (productpage-v1) and the reviews-v1 server, while the
 * client sends a known number of requests through the mesh; PromQL over Prometheus's HTTP API
 * must then see those requests from both sides of the edge, with the peer's labels.
 */
const REQUESTS = 200;
const EDGE = 'source_workload="productpage-v1",source_app="productpage",destination_workload="reviews-v1",destination_app="reviews",destination_version="v1",destination_service="reviews.default.svc.cluster.local",response_code="200"';

let mesh: Mesh;
let prometheus: ChildProcess | undefined;
let promLog = '';
let promUrl = '';
let tsdb = '';

function prometheusBinary(): string | undefined {
  for (const p of ['prometheus', '/usr/bin/prometheus']) if (spawnSync(p, ['--version']).status === 0) return p;
  return undefined;
}

/** An instant PromQL query's result vector, through /api/v1/query. */
async function query(q: string, at?: number): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const u = new URL('/api/v1/query', promUrl);
  u.searchParams.set('query', q);
  if (at !== undefined) u.searchParams.set('time', String(at / 1000));
  const r = await fetch(u, { signal: AbortSignal.timeout(5000) });
  const body = await r.json() as { status: string; data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] }; error?: string };
  assert.equal(body.status, 'success', body.error);
  return body.data.result;
}

const scalar = async (q: string, at?: number): Promise<number | undefined> => {
  const r = await query(q, at);
  return r.length === 1 ? Number(r[0]!.value[1]) : undefined;
};

before(async () => {
  const bin = prometheusBinary();
  assert.ok(bin, 'prometheus is not installed: run scripts/ensure-system-deps.sh (Debian package prometheus)');
  mesh = await startMesh({ workloads: [
    { name: 'reviews-v1', labels: { app: 'reviews', version: 'v1' } },
    { name: 'productpage-v1', labels: { app: 'productpage', version: 'v1' }, noApp: true },
  ] });
  await mesh.apply(REVIEWS_SERVICE_ENTRY);
  await mesh.waitSynced(['reviews-v1', 'productpage-v1']);
  tsdb = mkdtempSync(join(tmpdir(), 'tsmesh-prometheus-'));
  const targets = [...mesh.workloads.values()].map((w) => `'127.0.0.1:${w.prometheusPort}'`).join(', ');
  writeFileSync(join(tsdb, 'prometheus.yml'), `global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
- job_name: envoy-stats
  metrics_path: /stats/prometheus
  static_configs: [ { targets: [${targets}] } ]
`);
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  prometheus = spawn(bin, [`--config.file=${join(tsdb, 'prometheus.yml')}`, `--storage.tsdb.path=${join(tsdb, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  prometheus.stdout!.on('data', (d: Buffer) => { promLog = (promLog + d.toString()).slice(-10_000); });
  prometheus.stderr!.on('data', (d: Buffer) => { promLog = (promLog + d.toString()).slice(-10_000); });
  await until(async () => (await fetch(`${promUrl}/-/ready`, { signal: AbortSignal.timeout(2000) })).ok || undefined, 60_000, () => `prometheus not ready:\n${promLog}`);
  // Both sidecars are scraped before the traffic starts.
  await until(async () => (await scalar('sum(up{job="envoy-stats"})')) === 2 || undefined, 60_000, () => `prometheus did not scrape both sidecars:\n${promLog}`);
});

after(async () => {
  if (prometheus && prometheus.exitCode === null) {
    const exited = new Promise((r) => prometheus!.once('exit', r));
    prometheus.kill('SIGTERM');
    const t = setTimeout(() => prometheus!.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
  await mesh?.close();
  if (tsdb) rmSync(tsdb, { recursive: true, force: true });
});

test('Prometheus scrapes both sidecars and PromQL sees the requests from both sides of the edge', async () => {
  const client = mesh.workloads.get('productpage-v1')!;
  const agent = keepAliveAgent();
  // Paced (25 req/s for ~8 s) so the counter rises across several scrapes, as real traffic does.
  const start = Date.now();
  for (let i = 0; i < REQUESTS; i++) {
    const wait = start + i * 40 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const r = await viaProxy(client.outboundPort, `${REVIEWS_URL}/reviews/${i}`, { agent });
    assert.equal(r.status, 200);
    assert.equal(r.json?.name, 'reviews-v1');
    assert.equal(r.headers['x-envoy-peer-metadata'], undefined);
  }
  const end = Date.now();

  // Exact counts, once a scrape after the last request has landed: the same edge from both sides.
  for (const reporter of ['source', 'destination']) {
    const sum = `sum(istio_requests_total{reporter="${reporter}",${EDGE}})`;
    await until(async () => (await scalar(sum)) === REQUESTS || undefined, 30_000, () => `${sum} never reached ${REQUESTS}`);
  }
  const evalAt = end + 2000;
  // The rate over [1m] of traffic that all fell inside that minute: increase / 60 s. Prometheus
  // extrapolates increase() from its samples (the counter starts at the first request), so
  // allow a margin rather than an exact figure (measured: +5 to +11 %). A machine so loaded that
  // the traffic took longer than 40 s gets a window that still holds all of it.
  const windowS = Math.max(60, Math.ceil((evalAt - start) / 1000) + 20);
  const range = windowS === 60 ? '1m' : `${windowS}s`;
  for (const reporter of ['source', 'destination']) {
    const rate = await scalar(`sum(rate(istio_requests_total{reporter="${reporter}",${EDGE}}[${range}]))`, evalAt);
    assert.ok(rate !== undefined, `no rate for reporter ${reporter}`);
    const expected = REQUESTS / windowS;
    assert.ok(Math.abs(rate - expected) / expected < 0.25, `reporter ${reporter}: rate ${rate}/s, expected about ${expected.toFixed(2)}/s (${REQUESTS} requests in ${(end - start) / 1000} s)`);
  }
  // The histogram is there for the usual latency query.
  const p50 = await scalar(`histogram_quantile(0.5, sum(rate(istio_request_duration_milliseconds_bucket{reporter="destination",${EDGE}}[${range}])) by (le))`, evalAt);
  assert.ok(p50 !== undefined && p50 > 0 && p50 <= 1000, `p50 ${p50} ms`);
  // The server side knows the connection was plaintext; the client side cannot tell.
  const policies = await query(`sum by (reporter, connection_security_policy) (istio_requests_total{${EDGE}})`);
  assert.deepEqual(policies.map((r) => `${r.metric['reporter']}:${r.metric['connection_security_policy']}`).sort(), ['destination:none', 'source:unknown']);
});
