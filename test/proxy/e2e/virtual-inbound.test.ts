import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { freePort, httpUpstream, request, type Upstream } from '../../support/net.js';
import { startProxy, type RunningProxy } from '../../support/proxy.js';

// A sidecar's inbound side as Istio shapes it: listener virtualInbound on the inbound port (the
// original_dst listener filter, a chain for the destination port), every request to the STATIC
// cluster inbound|<app-port>|| on 127.0.0.1:<app-port>. Without capture, callers connect to the
// inbound port itself.
let proxy: RunningProxy;
let app: Upstream;
let inboundPort: number;

before(async () => {
  app = await httpUpstream((req, res) => res.end(`app ${req.method} ${req.url} host=${req.headers.host}`));
  inboundPort = await freePort();
  const cluster = `inbound|${app.port}||`;
  proxy = await startProxy(`
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: ADMIN_PORT } }
static_resources:
  listeners:
  - name: virtualInbound
    address: { socket_address: { address: 127.0.0.1, port_value: ${inboundPort} } }
    traffic_direction: INBOUND
    listener_filters:
    - name: envoy.filters.listener.original_dst
      typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst }
    filter_chains:
    - name: "0.0.0.0_${inboundPort}"
      filter_chain_match: { destination_port: ${inboundPort} }
      filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: "inbound_0.0.0.0_${app.port}"
          route_config:
            name: "inbound|${app.port}||"
            validate_clusters: false
            virtual_hosts:
            - name: "inbound|http|${app.port}"
              domains: ["*"]
              routes:
              - name: default
                match: { prefix: "/" }
                route: { cluster: "${cluster}", timeout: 0s }
          http_filters:
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
  clusters:
  - name: "${cluster}"
    type: STATIC
    connect_timeout: 10s
    load_assignment:
      cluster_name: "${cluster}"
      endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${app.port} } } } } ] } ]
`);
});

after(async () => {
  await proxy?.stop();
  await app?.close();
});

test('HTTP/1.1 to the inbound port reaches the app through inbound|<port>||', async () => {
  const r = await request(inboundPort, { path: '/reviews/1', headers: { host: 'reviews.default.svc.cluster.local:9080' } });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'app GET /reviews/1 host=reviews.default.svc.cluster.local:9080');
});

test('HTTP/2 (prior knowledge) to the inbound port reaches the app too', async () => {
  const c = http2.connect(`http://127.0.0.1:${inboundPort}`);
  try {
    const body = await new Promise<string>((resolve, reject) => {
      const s = c.request({ ':path': '/h2', ':authority': 'reviews:9080' });
      let b = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => (b += d));
      s.on('end', () => resolve(b));
      s.on('error', reject);
    });
    assert.equal(body, 'app GET /h2 host=reviews:9080');
  } finally {
    c.close();
  }
});

test('the inbound cluster counts its requests under its Istio name', async () => {
  const stats = (await proxy.admin(`/stats?filter=${encodeURIComponent('upstream_rq_total')}`)).body;
  assert.match(stats, new RegExp(`^cluster\\.inbound\\|${app.port}\\|\\|\\.upstream_rq_total: [2-9]$`, 'm'), stats);
});
