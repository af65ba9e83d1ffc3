import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, rawUpstream, request } from '../../support/net.js';
import { startProxy, httpListenerHead, ROUTER_FILTER, type RunningProxy } from '../../support/proxy.js';

// Upstreams that fail on command; the proxy answers with Envoy's status and response flag.
let proxy: RunningProxy;
let port: number;
let logFile: string;
const ups: { close(): Promise<void> }[] = [];

function cluster(name: string, upstreamPort: number, extra = ''): string {
  return `
  - name: ${name}
    connect_timeout: 0.5s
    type: STATIC
${extra}
    load_assignment:
      cluster_name: ${name}
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${upstreamPort} } } }`;
}

function route(prefix: string, clusterName: string, extra = ''): string {
  return `
              - match: { prefix: "${prefix}" }
                route: { cluster: ${clusterName}${extra} }`;
}

before(async () => {
  const reset = await rawUpstream((s) => s.once('data', () => s.resetAndDestroy()));
  const garbage = await rawUpstream((s) => s.once('data', () => s.end('this is not http\r\n\r\n')));
  const hang = await rawUpstream(() => { /* reads the request, never answers */ });
  const midBody = await rawUpstream((s) => s.once('data', () => { s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial'); setTimeout(() => s.destroy(), 50); }));
  ups.push(reset, garbage, hang, midBody);
  const refused = await freePort(); // nothing listens there
  port = await freePort();
  logFile = join(mkdtempSync(join(tmpdir(), 'tsmesh-log-')), 'access.log');
  proxy = await startProxy(`${httpListenerHead(port, `
access_log:
- name: envoy.access_loggers.file
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
    path: ${logFile}
    log_format: { text_format_source: { inline_string: "%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS%\\n" } }`)}
          route_config:
            name: local
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:${route('/refused', 'refused')}${route('/reset', 'reset')}${route('/garbage', 'garbage')}${route('/slow', 'hang', ', timeout: 0.3s')}${route('/overflow', 'tiny', ', timeout: 3s')}${route('/midbody', 'midbody')}
${ROUTER_FILTER}
  clusters:${cluster('refused', refused)}${cluster('reset', reset.port)}${cluster('garbage', garbage.port)}${cluster('hang', hang.port)}${cluster('midbody', midBody.port)}${cluster('tiny', hang.port, '    circuit_breakers: { thresholds: [ { max_requests: 1 } ] }')}
`);
});

after(async () => {
  await proxy.stop();
  await Promise.all(ups.map((u) => u.close()));
});

async function flags(path: string): Promise<string> {
  // The access log is flushed on a short interval; wait for the line to appear.
  for (let i = 0; i < 100; i++) {
    let text = '';
    try { text = readFileSync(logFile, 'utf8'); } catch { /* not yet */ }
    const line = text.split('\n').reverse().find((l) => l.startsWith(`${path} `));
    if (line) return line.split(' ')[2]!;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no access log line for ${path}`);
}

test('connection refused → 503, flag UF', async () => {
  const r = await request(port, { path: '/refused' });
  assert.equal(r.status, 503);
  assert.match(r.body, /connection failure/);
  assert.equal(await flags('/refused'), 'UF');
});

test('upstream resets the connection → 503, flag UC', async () => {
  const r = await request(port, { path: '/reset' });
  assert.equal(r.status, 503);
  assert.match(r.body, /connection termination/);
  assert.equal(await flags('/reset'), 'UC');
});

test('upstream answers garbage → 502, flag UPE', async () => {
  const r = await request(port, { path: '/garbage' });
  assert.equal(r.status, 502);
  assert.equal(await flags('/garbage'), 'UPE');
});

test('upstream too slow → 504 after the route timeout, flag UT', async () => {
  const r = await request(port, { path: '/slow' });
  assert.equal(r.status, 504);
  assert.equal(r.body, 'upstream request timeout');
  assert.equal(await flags('/slow'), 'UT');
});

test('circuit breaker max_requests → 503 with x-envoy-overloaded, flag UO', async () => {
  const first = request(port, { path: '/overflow/1' }).catch(() => undefined); // holds the only slot
  await new Promise((r) => setTimeout(r, 200));
  const r = await request(port, { path: '/overflow/2' });
  assert.equal(r.status, 503);
  assert.equal(r.headers['x-envoy-overloaded'], 'true');
  assert.equal(await flags('/overflow/2'), 'UO');
  const stats = (await proxy.admin('/stats?filter=cluster.tiny.upstream_rq_pending_overflow')).body;
  assert.match(stats, /cluster\.tiny\.upstream_rq_pending_overflow: 1/);
  await first;
});

test('upstream dies mid-body → the downstream sees the reset, flag UC', async () => {
  await assert.rejects(request(port, { path: '/midbody' }));
  assert.equal(await flags('/midbody'), 'UC');
});

test('no route → 404, flag NR', async () => {
  // No route above has a catch-all prefix, so /zzz matches nothing.
  const r = await request(port, { path: '/zzz' });
  assert.equal(r.status, 404);
  assert.equal(await flags('/zzz'), 'NR');
});

test('client gives up while the upstream is slow → flag DC, upstream request reset', async () => {
  await new Promise<void>((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write('GET /slow/dc HTTP/1.1\r\nHost: a\r\n\r\n'));
    s.on('error', () => {});
    setTimeout(() => { s.destroy(); resolve(); }, 100);
  });
  assert.equal(await flags('/slow/dc'), 'DC');
});

test('the proxy stays up and counts it all', async () => {
  const s = (await proxy.admin('/stats')).body;
  assert.match(s, /cluster\.refused\.upstream_cx_connect_fail: [1-9]/);
  assert.match(s, /http\.ingress\.downstream_rq_5xx: [1-9]/);
});
