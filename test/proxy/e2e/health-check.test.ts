import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { freePort, rawUpstream, request } from '../../support/net.js';
import { startProxy, type RunningProxy } from '../../support/proxy.js';
import { faultyUpstream, type FaultyUpstream } from '../../support/faulty-upstream.js';
import { healthServer, type HealthServer } from '../../support/health-server.js';
import { accessLogLine, eventually, healthFlags, meshBootstrap, staticCluster, statValue } from '../../support/mesh.js';

// Active health checking end to end, against real servers whose health changes on command.

/** A grpc-js server implementing grpc.health.v1.Health/Check with a hand-written service definition. */
async function grpcHealthServer(): Promise<{ port: number; status: Map<string, number>; checks: string[]; close(): Promise<void> }> {
  const status = new Map<string, number>();
  const checks: string[] = [];
  const identity = (b: Buffer): Buffer => b;
  const service: grpc.ServiceDefinition = {
    Check: { path: '/grpc.health.v1.Health/Check', requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
  };
  const server = new grpc.Server();
  server.addService(service, {
    Check: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      // HealthCheckRequest { string service = 1 }: tag 0x0a, one-byte length for short names.
      const req = call.request;
      const svc = req.length > 2 && req[0] === 0x0a ? req.subarray(2, 2 + req[1]!).toString() : '';
      checks.push(svc);
      const s = status.get(svc);
      if (s === undefined) return cb({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
      cb(null, Buffer.from([0x08, s]));
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return { port, status, checks, close: () => new Promise((r) => server.tryShutdown(() => r())) };
}

const SERVING = 1, NOT_SERVING = 2;
const hc = (checker: string, more = '') =>
  `health_checks: [ { timeout: 0.5s, interval: 0.1s, no_traffic_interval: 0.1s, unhealthy_threshold: 2, healthy_threshold: 2${more}, ${checker} } ]`;

let proxy: RunningProxy;
let port: number;
let logFile: string;
let a: HealthServer, b: HealthServer, c: HealthServer, down: number;
let h2: FaultyUpstream, tcp: FaultyUpstream, noReuse: FaultyUpstream;
let pingServer: Awaited<ReturnType<typeof rawUpstream>>;
let pong = true;
let grpcServer: Awaited<ReturnType<typeof grpcHealthServer>>;
let panic: HealthServer[], strict: HealthServer[];
let od: HealthServer, odKeep: HealthServer;
const closers: (() => Promise<void>)[] = [];

before(async () => {
  a = await healthServer('a'); b = await healthServer('b'); c = await healthServer('c');
  panic = [await healthServer('p1'), await healthServer('p2'), await healthServer('p3'), await healthServer('p4')];
  strict = [await healthServer('s1'), await healthServer('s2')];
  od = await healthServer('od'); odKeep = await healthServer('odkeep');
  h2 = await faultyUpstream({ name: 'h2', http2: true });
  tcp = await faultyUpstream({ name: 'tcp' });
  noReuse = await faultyUpstream({ name: 'noreuse' });
  pingServer = await rawUpstream((s) => s.on('data', (d) => { if (d.toString().includes('PING')) s.write(pong ? 'xxPONGxx' : 'NOPE'); }));
  grpcServer = await grpcHealthServer();
  grpcServer.status.set('pkg.Svc', SERVING);
  for (const s of [a, b, c, ...panic, ...strict, od, odKeep]) closers.push(() => s.close());
  closers.push(() => h2.close(), () => tcp.close(), () => noReuse.close(), () => pingServer.close(), () => grpcServer.close());
  down = await freePort();
  port = await freePort();
  logFile = join(mkdtempSync(join(tmpdir(), 'tsmesh-hc-')), 'access.log');
  const ports = (ss: HealthServer[]) => ss.map((s) => s.port);
  const httpHc = hc('http_health_check: { path: "/healthz" }');
  proxy = await startProxy(meshBootstrap({
    listenPort: port,
    hcmExtra: `
access_log:
- name: envoy.access_loggers.file
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
    path: ${logFile}
    log_format: { text_format_source: { inline_string: "%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% %UPSTREAM_HOST%\\n" } }`,
    routes: [['/app', 'app'], ['/panic', 'panic'], ['/strict', 'strict'], ['/od', 'od'], ['/keep', 'keep'], ['/', 'app']],
    clusters: [
      staticCluster('app', [a.port, b.port, c.port], httpHc),
      staticCluster('cold', [down], httpHc),
      staticCluster('h2', [h2.port], hc('http_health_check: { path: "/healthz", codec_client_type: HTTP2 }')),
      staticCluster('tcp', [tcp.port], hc('tcp_health_check: {}')),
      staticCluster('noreuse', [noReuse.port], hc('http_health_check: { path: "/healthz" }', ', reuse_connection: false')),
      staticCluster('ping', [pingServer.port], hc('tcp_health_check: { send: { text: "50494e47" }, receive: [ { text: "504f4e47" } ] }')),
      staticCluster('grpc', [grpcServer.port], hc('grpc_health_check: { service_name: pkg.Svc }')),
      staticCluster('panic', ports(panic), httpHc),
      staticCluster('strict', ports(strict), `${httpHc}\ncommon_lb_config: { healthy_panic_threshold: { value: 0 } }`),
      staticCluster('od', [od.port], `${httpHc}\noutlier_detection: { consecutive_5xx: 1, base_ejection_time: 600s, max_ejection_percent: 100 }`),
      staticCluster('keep', [odKeep.port], `${httpHc}\noutlier_detection: { consecutive_5xx: 1, base_ejection_time: 600s, max_ejection_percent: 100, successful_active_health_check_uneject_host: false }`),
    ],
  }));
});

after(async () => {
  await proxy.stop();
  await Promise.all(closers.map((c) => c()));
});

const clusters = async (): Promise<string> => (await proxy.admin('/clusters')).body;
const flagsOf = async (cluster: string, p: number): Promise<string | undefined> => healthFlags(await clusters(), cluster, p);
const stat = async (name: string): Promise<number | undefined> => statValue((await proxy.admin('/stats')).body, name);
const becomes = (cluster: string, p: number, want: string) => eventually(`${cluster} host ${p} to be ${want}`, async () => ((await flagsOf(cluster, p)) === want ? true : undefined));

test('the proxy is ready once every host had its first check; a host that failed it starts failed', async () => {
  // No polling: warming waited for the first round.
  const text = await clusters();
  for (const s of [a, b, c]) assert.equal(healthFlags(text, 'app', s.port), 'healthy');
  assert.equal(healthFlags(text, 'cold', down), '/failed_active_hc');
  assert.equal(statValue((await proxy.admin('/stats')).body, 'cluster.cold.membership_healthy'), 0);
});

test('HTTP checks: GET path with the cluster name as host and user-agent Envoy/HC', () => {
  assert.ok(a.checks.length >= 1);
  assert.equal(a.checks[0]!.host, 'app');
  assert.equal(a.checks[0]!.userAgent, 'Envoy/HC');
});

test('an unexpected status fails a host at once; healthy_threshold passes bring it back', async () => {
  a.health = 'fail';
  await becomes('app', a.port, '/failed_active_hc');
  assert.equal(a.checks.filter((c) => c.answered === 'fail').length, 1, 'one 503 is enough (unhealthy_threshold is for network failures)');
  const before = a.traffic;
  const served = new Set<string>();
  for (let i = 0; i < 6; i++) served.add((await request(port, { path: '/app' })).headers['x-upstream'] as string);
  assert.deepEqual([...served].sort(), ['b', 'c']);
  assert.equal(a.traffic, before);
  assert.equal(await stat('cluster.app.health_check.healthy'), 2);
  assert.equal(await stat('cluster.app.membership_healthy'), 2);
  const passesBefore = a.checks.length;
  a.health = 'ok';
  await becomes('app', a.port, 'healthy');
  assert.ok(a.checks.slice(passesBefore).filter((c) => c.answered === 'ok').length >= 2, 'healthy_threshold is 2');
});

test('network failures need unhealthy_threshold; a timed-out host shows active_hc_timeout', async () => {
  const start = b.checks.length;
  b.health = 'hang';
  await becomes('app', b.port, '/failed_active_hc/active_hc_timeout');
  assert.ok(b.checks.slice(start).filter((c) => c.answered === 'hang').length >= 2, 'unhealthy_threshold is 2');
  assert.ok((await stat('cluster.app.health_check.network_failure'))! >= 2);
  b.health = 'ok';
  await becomes('app', b.port, 'healthy');
});

test('health_check stats count attempts, successes and failures', async () => {
  const s = (await proxy.admin('/stats?filter=cluster\\.app\\.health_check')).body;
  const attempt = statValue(s, 'cluster.app.health_check.attempt')!;
  const success = statValue(s, 'cluster.app.health_check.success')!;
  const failure = statValue(s, 'cluster.app.health_check.failure')!;
  assert.ok(attempt > 0 && success > 0 && failure > 0);
  // Counters are read one after the other: allow for one check per host starting or ending meanwhile.
  assert.ok(Math.abs(attempt - (success + failure)) <= 3, `attempt ${attempt}, success ${success}, failure ${failure}`);
  assert.equal(statValue(s, 'cluster.app.health_check.passive_failure'), 0);
  assert.equal(statValue(s, 'cluster.app.health_check.degraded'), 0);
});

test('HTTP/2 checks (codec_client_type HTTP2)', async () => {
  assert.equal(await flagsOf('h2', h2.port), 'healthy');
  assert.ok(h2.seen.some((r) => r.url === '/healthz' && r.headers[':authority'] === 'h2'));
  h2.setDefault({ kind: 'status', status: 503 });
  await becomes('h2', h2.port, '/failed_active_hc');
  h2.setDefault({ kind: 'ok' });
  await becomes('h2', h2.port, 'healthy');
});

test('reuse_connection: false opens a connection per check (reused by default: see health-workers)', async () => {
  await eventually('four checks', () => (noReuse.seen.length >= 4 ? true : undefined));
  assert.ok(noReuse.connections >= noReuse.seen.length - 1, `${noReuse.connections} connections for ${noReuse.seen.length} checks`);
});

test('TCP connect checks: a host that refuses connections is failed, and back when it listens', async () => {
  assert.equal(await flagsOf('tcp', tcp.port), 'healthy');
  await tcp.stop();
  await becomes('tcp', tcp.port, '/failed_active_hc');
  await tcp.start();
  await becomes('tcp', tcp.port, 'healthy');
});

test('TCP checks with send and receive payloads', async () => {
  assert.equal(await flagsOf('ping', pingServer.port), 'healthy');
  pong = false;
  await becomes('ping', pingServer.port, '/failed_active_hc/active_hc_timeout');
  pong = true;
  await becomes('ping', pingServer.port, 'healthy');
});

test('gRPC checks: grpc.health.v1 with service_name; NOT_SERVING fails at once, an unknown service too', async () => {
  assert.equal(await flagsOf('grpc', grpcServer.port), 'healthy');
  assert.ok(grpcServer.checks.includes('pkg.Svc'));
  grpcServer.status.set('pkg.Svc', NOT_SERVING);
  await becomes('grpc', grpcServer.port, '/failed_active_hc');
  grpcServer.status.set('pkg.Svc', SERVING);
  await becomes('grpc', grpcServer.port, 'healthy');
  grpcServer.status.delete('pkg.Svc');
  await becomes('grpc', grpcServer.port, '/failed_active_hc');
  grpcServer.status.set('pkg.Svc', SERVING);
  await becomes('grpc', grpcServer.port, 'healthy');
});

test('panic threshold: below 50% healthy, traffic goes to every host (lb_healthy_panic counts it)', async () => {
  for (const s of panic.slice(0, 2)) s.health = 'fail';
  for (const s of panic.slice(0, 2)) await becomes('panic', s.port, '/failed_active_hc');
  // Half healthy is not below the threshold: only the healthy hosts serve.
  const half = new Set<string>();
  for (let i = 0; i < 12; i++) half.add((await request(port, { path: '/panic' })).headers['x-upstream'] as string);
  assert.deepEqual([...half].sort(), ['p3', 'p4']);
  assert.equal(await stat('cluster.panic.lb_healthy_panic'), 0);
  panic[2]!.health = 'fail';
  await becomes('panic', panic[2]!.port, '/failed_active_hc');
  const all = new Set<string>();
  for (let i = 0; i < 12; i++) all.add((await request(port, { path: '/panic' })).headers['x-upstream'] as string);
  assert.deepEqual([...all].sort(), ['p1', 'p2', 'p3', 'p4']);
  assert.equal(await stat('cluster.panic.lb_healthy_panic'), 12);
  for (const s of panic) s.health = 'ok';
});

test('panic threshold 0: no panic; with every host unhealthy, 503 no healthy upstream (UH)', async () => {
  strict[0]!.health = 'fail';
  await becomes('strict', strict[0]!.port, '/failed_active_hc');
  for (let i = 0; i < 6; i++) assert.equal((await request(port, { path: '/strict' })).headers['x-upstream'], 's2');
  strict[1]!.health = 'fail';
  await becomes('strict', strict[1]!.port, '/failed_active_hc');
  const r = await request(port, { path: '/strict/none' });
  assert.equal(r.status, 503);
  assert.equal(r.body, 'no healthy upstream');
  assert.equal(await accessLogLine(logFile, '/strict/none '), '/strict/none 503 UH -');
  for (const s of strict) s.health = 'ok';
});

test('a passing active check returns a host ejected by outlier detection', async () => {
  od.serve = 'fail';
  assert.equal((await request(port, { path: '/od' })).status, 503);
  // base_ejection_time is 600 s: only the next passing check can bring it back this soon.
  await becomes('od', od.port, 'healthy');
  assert.equal(await stat('cluster.od.outlier_detection.ejections_enforced_consecutive_5xx'), 1);
  assert.equal(await stat('cluster.od.outlier_detection.ejections_active'), 0);
  od.serve = 'ok';
});

test('successful_active_health_check_uneject_host: false keeps the host ejected while checks pass', async () => {
  odKeep.serve = 'fail';
  assert.equal((await request(port, { path: '/keep' })).status, 503);
  assert.equal(await flagsOf('keep', odKeep.port), '/failed_outlier_check');
  const n = odKeep.checks.length;
  await eventually('three more passing checks', () => (odKeep.checks.length >= n + 3 ? true : undefined));
  assert.equal(await flagsOf('keep', odKeep.port), '/failed_outlier_check');
  assert.equal(await stat('cluster.keep.outlier_detection.ejections_active'), 1);
  odKeep.serve = 'ok';
});

test('/config_dump shows health_checks as applied', async () => {
  const dump = (await proxy.admin('/config_dump')).body;
  assert.match(dump, /"healthChecks": \[/);
  assert.match(dump, /"httpHealthCheck": \{\s*"path": "\/healthz"/);
});
