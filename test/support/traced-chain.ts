import http from 'node:http';
import { freePort } from './net.js';
import { startProxy, type RunningProxy } from './proxy.js';

/** Headers an application must forward for a trace to stay whole (Istio asks the same of apps). */
export const TRACE_HEADERS = ['x-request-id', 'traceparent', 'tracestate', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags', 'b3'];

export interface ChainService {
  readonly name: string;
  readonly proxy: RunningProxy;
  /** The request heads the application received, in order. */
  readonly received: http.IncomingHttpHeaders[];
  readonly inboundPort: number;
  readonly outboundPort: number;
}

export interface TracedChain {
  readonly services: ChainService[];
  /** GET through the first service's inbound listener; resolves with status and body. */
  call(headers?: Record<string, string>, path?: string): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }>;
  close(): Promise<void>;
}

export type ProviderYaml = (collectorPort: number, serviceName: string) => string;

/** Envoy's OpenTelemetry tracer over OTLP/HTTP to the collector cluster. */
export const otlpProvider: ProviderYaml = (_port, service) => `
            provider:
              name: envoy.tracers.opentelemetry
              typed_config:
                "@type": type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig
                service_name: ${service}
                http_service:
                  http_uri: { uri: "http://collector:4318/v1/traces", cluster: collector, timeout: 2s }`;

/** Envoy's Zipkin tracer (HTTP_JSON, 128-bit ids, no shared span context). */
export const zipkinProvider = (shared: boolean): ProviderYaml => () => `
            provider:
              name: envoy.tracers.zipkin
              typed_config:
                "@type": type.googleapis.com/envoy.config.trace.v3.ZipkinConfig
                collector_cluster: collector
                collector_endpoint: /api/v2/spans
                collector_endpoint_version: HTTP_JSON
                trace_id_128bit: true
                shared_span_context: ${shared}`;

function hcm(statPrefix: string, cluster: string, tracing: string): string {
  return `
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ${statPrefix}
          tracing:${tracing}
          route_config:
            virtual_hosts: [ { name: all, domains: ["*"], routes: [ { match: { prefix: / }, route: { cluster: ${cluster} } } ] } ]
          http_filters: [ { name: envoy.filters.http.router, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } } ]`;
}

function cluster(name: string, port: number): string {
  return `
  - name: ${name}
    type: STATIC
    connect_timeout: 1s
    load_assignment: { cluster_name: ${name}, endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${port} } } } } ] } ] }`;
}

/**
 * Services `names[0] -> names[1] -> ...`, each an application behind its own `tsmesh proxy`
 * (an inbound listener, traffic_direction INBOUND, to the app; an outbound one, OUTBOUND, to
 * the next service's inbound listener), every connection manager tracing to `collectorPort`.
 * Each application forwards the trace headers it got to its own proxy's outbound listener.
 */
export async function startTracedChain(names: string[], collectorPort: number, provider: ProviderYaml, sampling = '', concurrency = 1): Promise<TracedChain> {
  const inbound = await Promise.all(names.map(() => freePort()));
  const outbound = await Promise.all(names.map(() => freePort()));
  const apps: http.Server[] = [];
  const services: ChainService[] = [];
  try {
    for (let i = 0; i < names.length; i++) {
      const received: http.IncomingHttpHeaders[] = [];
      const next = i + 1 < names.length;
      const app = http.createServer((req, res) => {
        received.push(req.headers);
        req.resume();
        if (!next) { res.writeHead(req.url?.includes('fail') ? 503 : 200).end(`${names[i]}`); return; }
        const fwd: Record<string, string> = {};
        for (const h of TRACE_HEADERS) { const v = req.headers[h]; if (typeof v === 'string') fwd[h] = v; }
        const status = req.url?.includes('fail') ? '?fail' : '';
        http.get({ host: '127.0.0.1', port: outbound[i], path: `/${status}`, headers: { ...fwd, host: names[i + 1]! } }, (up) => {
          let body = '';
          up.on('data', (d: Buffer) => (body += d));
          up.on('end', () => res.writeHead(up.statusCode ?? 502).end(`${names[i]}>${body}`));
        }).on('error', (e) => res.writeHead(502).end(e.message));
      });
      await new Promise<void>((r) => app.listen(0, '127.0.0.1', () => r()));
      apps.push(app);
      const appPort = (app.address() as { port: number }).port;
      const tracing = `${provider(collectorPort, names[i]!)}${sampling}`;
      const yaml = `
node:
  id: sidecar~127.0.0.1~${names[i]}-1.default~default.svc.cluster.local
  cluster: ${names[i]}.default
  locality: { zone: zone-1 }
  metadata: { NAMESPACE: default, MESH_ID: mesh1, LABELS: { app: ${names[i]}, "service.istio.io/canonical-name": ${names[i]}, "service.istio.io/canonical-revision": v1 } }
admin: { address: { socket_address: { address: 127.0.0.1, port_value: ADMIN_PORT } } }
static_resources:
  listeners:
  - name: inbound
    traffic_direction: INBOUND
    address: { socket_address: { address: 127.0.0.1, port_value: ${inbound[i]} } }
    filter_chains:
    - filters:${hcm(`inbound_${names[i]}`, 'app', tracing)}
  - name: outbound
    traffic_direction: OUTBOUND
    address: { socket_address: { address: 127.0.0.1, port_value: ${outbound[i]} } }
    filter_chains:
    - filters:${hcm(`outbound_${names[i]}`, next ? 'next' : 'app', tracing)}
  clusters:${cluster('app', appPort)}${cluster('next', next ? inbound[i + 1]! : appPort)}${cluster('collector', collectorPort)}
`;
      const proxy = await startProxy(yaml, { concurrency });
      services.push({ name: names[i]!, proxy, received, inboundPort: inbound[i]!, outboundPort: outbound[i]! });
    }
  } catch (e) {
    await Promise.all(services.map((s) => s.proxy.stop()));
    for (const a of apps) a.close();
    throw e;
  }
  return {
    services,
    call: (headers = {}, path = '/') => new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: inbound[0], path, headers: { host: names[0]!, ...headers }, agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      }).on('error', reject);
    }),
    async close() {
      await Promise.all(services.map((s) => s.proxy.stop()));
      await Promise.all(apps.map((a) => new Promise<void>((r) => { a.closeAllConnections(); a.close(() => r()); })));
    },
  };
}
