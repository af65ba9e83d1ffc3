/**
 * What mTLS between sidecars costs: a client sidecar -> (mTLS | plaintext) -> server sidecar ->
 * nginx chain against nginx directly, for HTTP/1.1 (wrk throughput, h2load --h1 at a fixed
 * rate) and HTTP/2 (h2load throughput and fixed rate; the sidecar hop is HTTP/2 too). Also new
 * TLS handshakes per second (a cluster that opens a connection per request,
 * max_requests_per_connection: 1, against the same over plaintext) and how many handshakes the
 * client sidecar made per request over the whole run (connection reuse between sidecars).
 * Both sidecars are tsmesh; certificates are made with openssl (ECDSA P-256, SPIFFE URI SANs).
 * Prints the numbers and writes them to the `mtls` section of BENCHMARKS.md.
 *
 *   npm run bench:mtls [-- --rounds 3 --duration 5 --rate 1000 --rate-duration 10
 *                         --connections 32 --base-port 18780 --no-write --quick]
 *
 * It prints numbers and never fails on them; it exits non-zero only when it cannot run.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { killAllNow, assertPortsFree, type ServerProcess } from './lib/processes.js';
import { nginxUpstreamConf } from './lib/configs.js';
import { startNginx, startTsmesh, checkServes } from './lib/servers.js';
import { runWrk, runH2loadThroughput, runH2loadRate, type LoadRun } from './lib/load.js';
import { describeMachine } from './lib/machine.js';
import { QuietGate } from './lib/quiet-gate.js';
import { median } from './lib/stats.js';
import { setSection } from './lib/sections.js';
import { makeCa } from '../test/support/certs.js';
import { ADMIN, cluster, downstreamTls, hcm, listener, staticSecrets, upstreamTls } from '../test/support/mtls.js';
import { intOption } from './lib/options.js';
import { repoRoot, log } from './lib/repo-root.js';

const BODY = 'hello world\n';
const SERVER = 'spiffe://cluster.local/ns/bench/sa/server';
const CLIENT = 'spiffe://cluster.local/ns/bench/sa/client';

interface Options { rounds: number; duration: number; rate: number; rateDuration: number; connections: number; basePort: number; write: boolean }

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      rounds: { type: 'string' }, duration: { type: 'string' }, rate: { type: 'string' }, 'rate-duration': { type: 'string' },
      connections: { type: 'string' }, 'base-port': { type: 'string' }, 'no-write': { type: 'boolean' }, quick: { type: 'boolean' },
    },
  });
  const quick = values.quick === true;
  const int = intOption;
  return {
    rounds: int('rounds', values.rounds, quick ? 1 : 3, 1, 50),
    duration: int('duration', values.duration, quick ? 2 : 5, 1, 60),
    rate: int('rate', values.rate, 1000, 1, 100000),
    rateDuration: int('rate-duration', values['rate-duration'], quick ? 3 : 10, 1, 120),
    connections: int('connections', values.connections, 32, 1, 1000),
    basePort: int('base-port', values['base-port'], 18780, 1024, 65000),
    write: values['no-write'] !== true,
  };
}

interface Ports {
  upstream: number; upstreamH2: number; serverAdmin: number; clientAdmin: number;
  serverMtls: number; serverPlain: number;
  mtlsH1: number; mtlsH2: number; plainH1: number; plainH2: number; handshakeMtls: number; handshakePlain: number;
}

/** The server sidecar: an mTLS inbound listener and a plaintext one, both to nginx (HTTP/1.1, pooled). */
function serverBootstrap(p: Ports, secrets: string): string {
  return `${ADMIN.replace('ADMIN_PORT', String(p.serverAdmin))}
static_resources:${secrets}
  listeners:${listener('inbound_mtls', p.serverMtls, `
    - filter_chain_match: { transport_protocol: tls }${downstreamTls('{ exact: "' + CLIENT + '" }')}
      filters: [ ${hcm('inbound_mtls', 'app', 'forward_client_cert_details: APPEND_FORWARD, set_current_client_cert_details: { uri: true }')} ]`, true)}${listener('inbound_plain', p.serverPlain, `
    - filters: [ ${hcm('inbound_plain', 'app')} ]`)}
  clusters:${cluster('app', p.upstream)}
`;
}

/** The client sidecar: one plaintext listener per path, each to its own cluster towards the server sidecar. */
function clientBootstrap(p: Ports, secrets: string): string {
  const sni = 'outbound_.80_._.server.bench.svc.cluster.local';
  const tlsH1 = upstreamTls(SERVER, sni);
  const tlsH2 = upstreamTls(SERVER, sni, ['istio-peer-exchange', 'istio', 'h2']);
  const perRequest = (c: string): string => c.replace('connect_timeout: 2s', `connect_timeout: 2s
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions: { "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, common_http_protocol_options: { max_requests_per_connection: 1 }, explicit_http_config: { http_protocol_options: {} } }`);
  const l = (name: string, port: number, target: string): string => listener(name, port, `
    - filters: [ ${hcm(name, target)} ]`);
  return `${ADMIN.replace('ADMIN_PORT', String(p.clientAdmin))}
static_resources:${secrets}
  listeners:${l('mtls_h1', p.mtlsH1, 'mtls_h1')}${l('mtls_h2', p.mtlsH2, 'mtls_h2')}${l('plain_h1', p.plainH1, 'plain_h1')}${l('plain_h2', p.plainH2, 'plain_h2')}${l('hs_mtls', p.handshakeMtls, 'hs_mtls')}${l('hs_plain', p.handshakePlain, 'hs_plain')}
  clusters:${cluster('mtls_h1', p.serverMtls, { tls: tlsH1 })}${cluster('mtls_h2', p.serverMtls, { tls: tlsH2, http2: true })}${cluster('plain_h1', p.serverPlain)}${cluster('plain_h2', p.serverPlain, { http2: true })}${perRequest(cluster('hs_mtls', p.serverMtls, { tls: tlsH1 }))}${perRequest(cluster('hs_plain', p.serverPlain))}
`;
}

type Phase = 'h1' | 'h1rate' | 'h2' | 'h2rate';
interface Target { name: string; what: string; h1: number; h2: number }
interface Sample { rps: number; p50: number; p99: number; errors: number; requests: number }

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const root = repoRoot();
  const dir = mkdtempSync(join(tmpdir(), 'tsmesh-bench-mtls-'));
  const ca = makeCa('bench-ca');
  process.on('exit', () => { killAllNow(); ca.cleanup(); rmSync(dir, { recursive: true, force: true }); });
  const b = o.basePort;
  const p: Ports = {
    upstream: b, upstreamH2: b + 1, serverAdmin: b + 2, clientAdmin: b + 3, serverMtls: b + 4, serverPlain: b + 5,
    mtlsH1: b + 6, mtlsH2: b + 7, plainH1: b + 8, plainH2: b + 9, handshakeMtls: b + 10, handshakePlain: b + 11,
  };
  await assertPortsFree(Object.values(p));
  const runAsRoot = process.getuid?.() === 0;
  await startNginx('upstream', dir, nginxUpstreamConf({ dir, runAsRoot, h1Port: p.upstream, h2Port: p.upstreamH2, body: BODY }), [p.upstream, p.upstreamH2]);
  const serverId = { ...ca.issue({ uri: [SERVER] }), caPem: ca.certPem };
  const clientId = { ...ca.issue({ uri: [CLIENT] }), caPem: ca.certPem };
  const bin = resolve(join(root, 'bin/tsmesh.js'));
  const procs: ServerProcess[] = [];
  const sdir = mkdtempSync(join(dir, 'server-'));
  const cdir = mkdtempSync(join(dir, 'client-'));
  procs.push(await startTsmesh({ bin, dir: sdir, bootstrap: serverBootstrap(p, staticSecrets(serverId)), adminPort: p.serverAdmin, concurrency: 1 }));
  procs.push(await startTsmesh({ bin, dir: cdir, bootstrap: clientBootstrap(p, staticSecrets(clientId)), adminPort: p.clientAdmin, concurrency: 1 }));
  for (const port of [p.mtlsH1, p.mtlsH2, p.plainH1, p.plainH2, p.handshakeMtls, p.handshakePlain]) await checkServes(port, 'h1', BODY);
  await checkServes(p.mtlsH2, 'h2', BODY);

  const targets: Target[] = [
    { name: 'direct', what: 'nginx itself', h1: p.upstream, h2: p.upstreamH2 },
    { name: 'plaintext', what: 'client sidecar -> plaintext -> server sidecar -> nginx', h1: p.plainH1, h2: p.plainH2 },
    { name: 'mtls', what: 'client sidecar -> mTLS -> server sidecar -> nginx', h1: p.mtlsH1, h2: p.mtlsH2 },
  ];
  const logFile = join(dir, 'h2load.log');
  const url = (port: number): string => `http://127.0.0.1:${port}/`;
  const loads: Record<Phase, (t: Target) => Promise<LoadRun>> = {
    h1: (t) => runWrk(url(t.h1), { threads: 1, connections: o.connections, durationSeconds: o.duration }),
    h1rate: (t) => runH2loadRate(url(t.h1), { h1: true, rate: o.rate, connections: 10, durationSeconds: o.rateDuration, logFile }),
    h2: (t) => runH2loadThroughput(url(t.h2), { clients: 4, streams: 8, durationSeconds: o.duration, logFile }),
    h2rate: (t) => runH2loadRate(url(t.h2), { h1: false, rate: o.rate, connections: 10, durationSeconds: o.rateDuration, logFile }),
  };
  const samples = new Map<string, Sample[]>();
  const commands = new Map<Phase, string>();
  const quiet = new QuietGate();
  log('warm-up');
  for (const t of targets) { await loads.h1(t); await loads.h2(t); }
  const stat = async (admin: number, name: string): Promise<number> => {
    const body = await (await fetch(`http://127.0.0.1:${admin}/stats?filter=${encodeURIComponent(`^${name.replace(/[.|]/g, '\\$&')}$`)}`)).text();
    return Number(/: (\d+)/.exec(body)?.[1] ?? 0);
  };
  for (let r = 1; r <= o.rounds; r++) {
    for (const phase of ['h1', 'h1rate', 'h2', 'h2rate'] as const) {
      for (const t of targets) {
        await quiet.wait();
        const run = await loads[phase](t);
        commands.set(phase, run.command.replace(String(t.h1), 'PORT').replace(String(t.h2), 'PORT'));
        const key = `${phase}/${t.name}`;
        samples.set(key, [...(samples.get(key) ?? []), { rps: run.requestsPerSecond, p50: run.p50Ms, p99: run.p99Ms, errors: run.errors, requests: run.requests }]);
        log(`round ${r} ${phase.padEnd(6)} ${t.name.padEnd(9)} ${Math.round(run.requestsPerSecond).toString().padStart(6)} req/s  p50 ${run.p50Ms.toFixed(3)} ms  p99 ${run.p99Ms.toFixed(3)} ms${run.errors ? `  errors ${run.errors}` : ''}`);
      }
    }
  }
  // Since the sidecars started: warm-up and checks included.
  const reuse = {
    h1hs: await stat(p.clientAdmin, 'cluster.mtls_h1.ssl.handshake'), h1rq: await stat(p.clientAdmin, 'cluster.mtls_h1.upstream_rq_total'),
    h2hs: await stat(p.clientAdmin, 'cluster.mtls_h2.ssl.handshake'), h2rq: await stat(p.clientAdmin, 'cluster.mtls_h2.upstream_rq_total'),
  };
  // New connections per request between the sidecars: TLS handshakes vs TCP connects.
  const hs: { mtls: number[]; plain: number[]; hsCount: number; hsRequests: number } = { mtls: [], plain: [], hsCount: 0, hsRequests: 0 };
  const hsBefore = await stat(p.clientAdmin, 'cluster.hs_mtls.ssl.handshake');
  for (let r = 1; r <= o.rounds; r++) {
    for (const [name, port] of [['mtls', p.handshakeMtls], ['plain', p.handshakePlain]] as const) {
      await quiet.wait();
      const run = await runWrk(url(port), { threads: 1, connections: 8, durationSeconds: o.duration });
      hs[name].push(run.requestsPerSecond);
      if (name === 'mtls') hs.hsRequests += run.requests;
      log(`round ${r} new connection per request, ${name.padEnd(5)} ${Math.round(run.requestsPerSecond)} req/s${run.errors ? `  errors ${run.errors}` : ''}`);
    }
  }
  hs.hsCount = (await stat(p.clientAdmin, 'cluster.hs_mtls.ssl.handshake')) - hsBefore;
  const serverHandshakes = await stat(p.serverAdmin, `listener.127.0.0.1_${p.serverMtls}.ssl.handshake`);
  const verifyFailures = await stat(p.serverAdmin, `listener.127.0.0.1_${p.serverMtls}.ssl.connection_error`);
  for (const s of procs.reverse()) await s.stop();

  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
  const m = (key: string, k: keyof Sample): number => median((samples.get(key) ?? []).map((s) => s[k]));
  const errs = (key: string): number => (samples.get(key) ?? []).reduce((a, s) => a + s.errors, 0);
  const machine = await describeMachine();
  const cpus = machine.find(([k]) => k === 'CPUs (nproc)')?.[1] ?? '?';
  const rows = (phase: Phase, rate: boolean): string[] => targets.map((t) => {
    const key = `${phase}/${t.name}`;
    return rate
      ? `| ${t.name} | ${t.what} | ${fmt(m(key, 'rps'))} | ${m(key, 'p50').toFixed(3)} | ${m(key, 'p99').toFixed(3)} | ${errs(key)} |`
      : `| ${t.name} | ${t.what} | ${fmt(m(key, 'rps'))} | ${m(key, 'p50').toFixed(3)} | ${m(key, 'p99').toFixed(3)} | ${errs(key)} |`;
  });
  const header = ['| path | hops | req/s | p50 ms | p99 ms | errors |', '| --- | --- | --- | --- | --- | --- |'];
  const ratio = (phase: Phase): string => `${((m(`${phase}/mtls`, 'rps') / m(`${phase}/plaintext`, 'rps')) * 100).toFixed(0)}%`;
  const table = [
    `Run ${new Date().toISOString()} by \`npm run bench:mtls\` (bench/mtls.ts), Node ${process.version}, ${cpus} CPUs shared by nginx, both sidecars (tsmesh --concurrency 1 each) and the load generator; median of ${o.rounds} rounds. Certificates: ECDSA P-256 with SPIFFE URI SANs (openssl); the server sidecar requires and verifies the client certificate (exact SAN match) and the client verifies the server's SAN; TLS 1.2 between the sidecars (Envoy's client default).`,
    '',
    `### HTTP/1.1 throughput (wrk -t1 -c${o.connections} -d${o.duration}s; the sidecar hop is HTTP/1.1)`,
    '', ...header, ...rows('h1', false), '',
    `### HTTP/1.1 at ${fmt(o.rate)} req/s (h2load --h1, 10 connections, fixed rate, ${o.rateDuration}s)`,
    '', ...header, ...rows('h1rate', true), '',
    `### HTTP/2 throughput (h2load -c4 -m8 -D${o.duration}; the sidecar hop is HTTP/2 over mTLS with ALPN h2)`,
    '', ...header, ...rows('h2', false), '',
    `### HTTP/2 at ${fmt(o.rate)} req/s (h2load, 10 connections, fixed rate, ${o.rateDuration}s)`,
    '', ...header, ...rows('h2rate', true), '',
    `mTLS throughput as a share of the plaintext two hops: HTTP/1.1 ${ratio('h1')}, HTTP/2 ${ratio('h2')}.`,
    '',
    '### New connections between the sidecars',
    '',
    `A client-sidecar cluster with max_requests_per_connection: 1 (one new upstream connection per request; wrk -t1 -c8 -d${o.duration}s):`,
    `mTLS ${fmt(median(hs.mtls))} handshakes/s (${fmt(hs.hsCount)} handshakes counted by cluster.hs_mtls.ssl.handshake for ${fmt(hs.hsRequests)} requests) vs plaintext ${fmt(median(hs.plain))} new TCP connections/s.`,
    '',
    `Connection reuse between the sidecars since they started (warm-up and all runs above): the HTTP/1.1 mTLS cluster made ${fmt(reuse.h1hs)} TLS handshakes for ${fmt(reuse.h1rq)} requests (${reuse.h1hs ? fmt(reuse.h1rq / reuse.h1hs) : '∞'} requests per handshake); the HTTP/2 one ${fmt(reuse.h2hs)} for ${fmt(reuse.h2rq)} (${reuse.h2hs ? fmt(reuse.h2rq / reuse.h2hs) : '∞'} per handshake). Server sidecar: ${fmt(serverHandshakes)} handshakes in all, ${verifyFailures} TLS connection errors.`,
    quiet.discarded.length ? `Runs discarded for other work on the machine: ${quiet.discarded.join(', ')}.` : '',
    '',
    `Load: ${[...commands.entries()].map(([k, c]) => `${k}: \`${c}\``).join('; ')}.`,
  ].filter((l, i, a) => l !== '' || a[i - 1] !== '').join('\n');
  process.stdout.write(`\n${table}\n`);
  if (o.write) {
    const file = join(root, 'BENCHMARKS.md');
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
    writeFileSync(file, setSection(text, 'mtls', `## mTLS between sidecars\n\n${table}`));
    log('bench: wrote the mtls section of BENCHMARKS.md');
  }
}

for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) process.on(sig, () => process.exit(code));
main().then(() => process.exit(0), (e: unknown) => { log(`bench: ${e instanceof Error ? e.stack ?? e.message : String(e)}`); process.exit(1); });
