import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startRunEnv, until, type Run, type RunEnv } from '../support/run-hosts.js';
import { runIn } from '../../src/capture/iptables.js';
import { parsePrometheus, select, type Sample } from '../support/prometheus-text.js';

/*
 * Istio's TCP metadata exchange from config the control plane generates, on hosts of
 * `tsmesh run` (root only: namespaces and iptables): two workloads with certificates (auto
 * mTLS), one serving a port declared TCP with a server-first protocol. The program on the other
 * host gets exactly the banner; both sidecars count the connection on the same edge, each with
 * the other's workload and principal, learned through the `istio-peer-exchange` ALPN.
 */
const root = process.getuid?.() === 0;
let env: RunEnv;
let shell: Run, db: Run;
let shellNs: string, dbNs: string;

before(async () => {
  if (!root) return;
  env = await startRunEnv();
  shell = env.run(['--name', 'shell', '--port', '9090'], ['sleep', '600']);
  db = env.run(['--name', 'db', '--port', '2525/TCP'], env.app('banner.mjs', '2525', 'db'));
  await until(() => env.registered('shell.default.svc.cluster.local', 9090), 60_000, () => shell.output());
  await until(() => env.registered('db.default.svc.cluster.local', 2525), 60_000, () => db.output());
  const hosts = await env.hostsTable();
  shellNs = /tsmesh-shell-\w+/.exec(hosts)![0];
  dbNs = /tsmesh-db-\w+/.exec(hosts)![0];
});

after(async () => {
  await env?.close();
});

async function scrape(ns: string): Promise<Sample[]> {
  const r = await runIn(ns, ['curl', '-s', 'http://127.0.0.1:15000/stats/prometheus']);
  return parsePrometheus(r.stdout);
}

async function stat(ns: string, name: string): Promise<number> {
  const r = await runIn(ns, ['curl', '-s', `http://127.0.0.1:15000/stats?filter=${encodeURIComponent(`^${name.replace(/\./g, '\\.')}$`)}`]);
  return Number(/: (\d+)/.exec(r.stdout)?.[1] ?? 'NaN');
}

test('a TCP connection between two mesh workloads: exact bytes, and the same edge with full labels from both sidecars', { skip: !root && 'needs root (namespaces, iptables)' }, async () => {
  const r = await runIn(shellNs, [...env.app('banner-client.mjs', 'db', '2525')]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.stdout, '220 db ready\r\n');
  const service = { destination_service: 'db.default.svc.cluster.local' };
  let src: Sample[] = [], dst: Sample[] = [];
  await until(async () => {
    src = select(await scrape(shellNs), 'istio_tcp_connections_closed_total', { ...service, reporter: 'source' }).filter((s) => s.labels['destination_workload'] !== 'unknown');
    // The server side names no destination_service here: inbound clusters carry no service.
    dst = select(await scrape(dbNs), 'istio_tcp_connections_closed_total', { reporter: 'destination' }).filter((s) => s.labels['source_workload'] !== 'unknown');
    return src.length > 0 && dst.length > 0;
  }, 30_000, () => `no TCP edge with peer labels on both sides:\n${JSON.stringify({ src, dst })}`);
  const s = src[0]!.labels, d = dst[0]!.labels;
  for (const k of ['source_workload', 'source_workload_namespace', 'source_principal', 'destination_workload', 'destination_workload_namespace', 'destination_principal', 'request_protocol']) assert.equal(s[k], d[k], k);
  assert.match(s['source_principal']!, /^spiffe:\/\/cluster\.local\/ns\/default\/sa\//);
  assert.match(s['destination_principal']!, /^spiffe:\/\/cluster\.local\/ns\/default\/sa\//);
  assert.notEqual(s['source_workload'], s['destination_workload']);
  assert.equal(s['connection_security_policy'], 'unknown');
  assert.equal(d['connection_security_policy'], 'mutual_tls');
  assert.ok(await stat(shellNs, 'metadata_exchange.alpn_protocol_found') >= 1, 'the client sidecar ran the exchange');
  assert.ok(await stat(dbNs, 'metadata_exchange.alpn_protocol_found') >= 1, 'the server sidecar ran the exchange');
});
