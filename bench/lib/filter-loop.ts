/**
 * The filters' own work per request, without sockets: decodeHeaders of fault + local_ratelimit
 * as the connection manager calls it (a new filter instance per stream), in a tight loop over
 * real stats and shared slots. Noise from other processes on the machine barely touches it,
 * unlike the throughput runs.
 */
import { perFilterLevels } from '../../src/proxy/http/route/per-filter-config.js';
import { fromJson, type JsonObject, type JsonValue } from '@bufbuild/protobuf';
import { HttpFilterSchema } from '../../src/envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { RouteConfigurationSchema } from '../../src/envoy/generated/envoy/config/route/v3/route_pb.js';
import { envoyRegistry } from '../../src/envoy/full-registry.js';
import { BUILT_IN_HTTP_FILTERS, compileHttpFilters, loadHttpFilters } from '../../src/proxy/http/filters/registry.js';
import { compileRouteConfig } from '../../src/proxy/http/route/compile.js';
import type { HttpFilterCallbacks, HttpFilterFactory, StreamInfo } from '../../src/proxy/http/filters/types.js';
import { HeaderMap } from '../../src/proxy/http/headers.js';
import type { RequestHeaders } from '../../src/proxy/http/stream.js';
import { StatsStore } from '../../src/proxy/admin/stats.js';
import { scopesFor } from '../../src/proxy/admin/scopes.js';
import { SharedSlots } from '../../src/proxy/shared/slots.js';
import { median } from './stats.js';

// The proxy loads a filter's module when a config first names its type (registryFor); the loop
// compiles http_filters directly, so every built-in filter is loaded first.
await loadHttpFilters(BUILT_IN_HTTP_FILTERS.flatMap(([names]) => names));

/**
 * Median ns per request of `filters` (http_filters entries as proto3 JSON, router excluded), on
 * a GET / carrying `headers` besides user-agent.
 */
export function filterLoopNs(filters: readonly JsonValue[], iterations = 200_000, repeats = 5, headers: readonly string[] = []): number {
  const store = StatsStore.create();
  const scopes = scopesFor(store);
  const slots = SharedSlots.create();
  const ctx = { httpScope: scopes.http('loop'), statPrefix: 'loop', scopes, shared: { slots, supervisor: true, sharedScopes: scopes } };
  const router = { name: 'envoy.filters.http.router', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } };
  const configs = compileHttpFilters([...filters, router].map((f) => fromJson(HttpFilterSchema, f, { registry: envoyRegistry })), 'http_filters');
  const factories: HttpFilterFactory[] = configs.flatMap((c) => (c.instantiate ? [c.instantiate(ctx)] : []));
  const table = compileRouteConfig(fromJson(RouteConfigurationSchema, { virtualHosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'app' } }] }] }, { registry: envoyRegistry }));
  const req: RequestHeaders = { method: 'GET', path: '/', authority: 'svc', scheme: 'http', headers: new HeaderMap(['user-agent', 'wrk', ...headers]), protocol: 'HTTP/1.1' };
  const route = table.select(req);
  const conn = { id: 1, remoteAddress: '127.0.0.1', remotePort: 40000, localAddress: '127.0.0.1', localPort: 8080 };
  const STREAM: StreamInfo = { status: 200, bytesReceived: 0, bytesSent: 2, flags: 0, isGrpc: false, responseHeaders: undefined, responseTrailers: undefined, upstreamCluster: { name: 'outbound|80||app.default.svc.cluster.local' }, elapsedMs: () => 1 };
  // As the connection manager does: one small callbacks object per filter and stream.
  class Callbacks implements HttpFilterCallbacks {
    readonly route = route;
    readonly conn = conn;
    readonly downstreamAddress = conn.remoteAddress;
    readonly finished = false;
    readonly stream = STREAM;
    constructor(readonly name: string, readonly metadata: Map<string, JsonObject>) {}
    continueDecoding(): void {}
    sendLocalReply(): void { throw new Error('the loop expects no local reply'); }
    addResponseFlags(): void {}
    injectEncodedData(): void {}
    continueEncoding(): void {}
    setResponseOverLimit(): void {}
    clearRouteCache(): void {}
    dynamicMetadata(ns: string): JsonObject | undefined { return this.metadata.get(ns); }
    setDynamicMetadata(ns: string, fields: JsonObject): void { this.metadata.set(ns, { ...this.metadata.get(ns), ...fields }); }
    perRouteConfig<T>(): T | undefined { return this.route?.route.perFilterConfig.get(this.name) as T | undefined; }
    perRouteConfigs<T>(): T[] { return this.route ? perFilterLevels<T>([this.route.route.perFilterConfig], this.name) : []; }
  }
  const once = (): void => {
    // As the stream does: dynamic metadata is created when a filter first writes it.
    const metadata = new Map<string, JsonObject>();
    for (const f of factories) {
      const s = f.create(new Callbacks(f.name, metadata));
      if (s.decodeHeaders(req, true) !== 'continue') throw new Error(`${f.name} stopped the request`);
      s.onDestroy?.();
    }
  };
  for (let i = 0; i < iterations / 4; i++) once();
  const runs: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    for (let i = 0; i < iterations; i++) once();
    runs.push(((performance.now() - t) * 1e6) / iterations);
  }
  return median(runs);
}
