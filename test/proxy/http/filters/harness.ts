import { perFilterLevels } from '../../../../src/proxy/http/route/per-filter-config.js';
import { fromJson, type JsonObject, type JsonValue } from '@bufbuild/protobuf';
import { HeaderMap } from '../../../../src/proxy/http/headers.js';
import type { RequestHeaders } from '../../../../src/proxy/http/stream.js';
import type { FilterRuntimeContext, HttpFilterCallbacks, LocalReplyOptions, StreamInfo } from '../../../../src/proxy/http/filters/types.js';
import type { RouteSelection } from '../../../../src/proxy/http/route/route-table.js';
import type { ConnectionInfo } from '../../../../src/proxy/http/conn-manager/connection-info.js';
import { StatsStore } from '../../../../src/proxy/admin/stats.js';
import { scopesFor } from '../../../../src/proxy/admin/scopes.js';
import { SharedSlots } from '../../../../src/proxy/shared/slots.js';
import { RouteConfigurationSchema } from '../../../../src/envoy/generated/envoy/config/route/v3/route_pb.js';
import { envoyRegistry } from '../../../../src/envoy/full-registry.js';
import { compileRouteConfig } from '../../../../src/proxy/http/route/compile.js';

/**
 * What a filter unit test needs: a real stats store and real shared slots (as one proxy
 * instance has), and callbacks that record what the filter asked for. The connection manager
 * itself is exercised by the end-to-end tests.
 */
export function runtime(statPrefix = 'ingress', slots = SharedSlots.create({ entries: 64, ints: 1024, nameBytes: 8192 })): { ctx: FilterRuntimeContext; store: StatsStore; slots: SharedSlots } {
  const store = StatsStore.create({ counters: 256, gauges: 64, histograms: 8, nameBytes: 1 << 15 });
  const scopes = scopesFor(store);
  return { store, slots, ctx: { httpScope: scopes.http(statPrefix), statPrefix, scopes, shared: { slots, supervisor: true, sharedScopes: scopes } } };
}

/** The value of a stat by its full name (0 when never used). */
export function stat(store: StatsStore, name: string): number {
  const s = store.snapshot();
  return s.counters.find((c) => c.info.name === name)?.value ?? s.gauges.find((g) => g.info.name === name)?.value ?? 0;
}

export interface Reply { status: number; body: string; details: string; opts: LocalReplyOptions | undefined }

export class FakeCallbacks implements HttpFilterCallbacks {
  replies: Reply[] = [];
  flags = 0;
  continued = 0;
  finished = false;
  constructor(
    readonly route: RouteSelection | undefined,
    readonly filterName: string,
    readonly conn: ConnectionInfo = CONN,
  ) {}
  continueDecoding(): void { this.continued++; }
  sendLocalReply(status: number, body: string, details: string, opts?: LocalReplyOptions): void {
    this.replies.push({ status, body, details, opts });
    this.flags |= opts?.flags ?? 0;
    this.finished = true;
  }
  get downstreamAddress(): string { return this.conn.remoteAddress; }
  addResponseFlags(flags: number): void { this.flags |= flags; }
  /** Response body the filter sent on, and whether it ended the response. */
  injected: { chunk: Buffer; endStream: boolean }[] = [];
  trailersContinued = 0;
  overLimit: boolean[] = [];
  injectEncodedData(chunk: Buffer, endStream: boolean): void { this.injected.push({ chunk, endStream }); }
  continueEncoding(): void { this.trailersContinued++; }
  setResponseOverLimit(over: boolean): void { this.overLimit.push(over); }
  /** Dynamic metadata as filters set it (merged per namespace). */
  readonly metadata = new Map<string, JsonObject>();
  dynamicMetadata(namespace: string): JsonObject | undefined { return this.metadata.get(namespace); }
  routeCleared = 0;
  clearRouteCache(): void { this.routeCleared++; }
  setDynamicMetadata(namespace: string, fields: JsonObject): void { this.metadata.set(namespace, { ...this.metadata.get(namespace), ...fields }); }
  perRouteConfig<T>(): T | undefined {
    return this.route?.route.perFilterConfig.get(this.filterName) as T | undefined;
  }
  perRouteConfigs<T>(): T[] {
    return this.route ? perFilterLevels<T>([this.route.route.perFilterConfig, this.route.virtualHost.perFilterConfig], this.filterName) : [];
  }
  /** What the stream did, as a test sets it before onDestroy. */
  stream: { -readonly [K in keyof StreamInfo]: StreamInfo[K] } = {
    status: 0, bytesReceived: 0, bytesSent: 0, flags: 0, isGrpc: false,
    responseHeaders: undefined, responseTrailers: undefined, upstreamCluster: undefined, elapsedMs: () => 0,
  };
}

export const CONN: ConnectionInfo = { id: 1, remoteAddress: '10.0.0.7', remotePort: 40000, localAddress: '127.0.0.1', localPort: 8080 };

export function request(path = '/', headers: Record<string, string> = {}, authority = 'svc'): RequestHeaders {
  return { method: 'GET', path, authority, scheme: 'http', headers: new HeaderMap(Object.entries(headers).flat()), protocol: 'HTTP/1.1' };
}

/** Compiles a RouteConfiguration from JSON (proto3 mapping, `@type` on Any) and selects `path`. */
export function routeFor(rc: JsonValue, path = '/', headers: Record<string, string> = {}): RouteSelection | undefined {
  const table = compileRouteConfig(fromJson(RouteConfigurationSchema, rc, { registry: envoyRegistry }), 'route_config');
  return table.select(request(path, headers));
}
