import { create } from '@bufbuild/protobuf';
import {
  RouteSchema, RouteActionSchema, RedirectActionSchema, RedirectAction_RedirectResponseCode, DirectResponseActionSchema,
  WeightedClusterSchema, WeightedCluster_ClusterWeightSchema, RouteAction_MaxStreamDurationSchema, type Route, type RouteAction, type RouteMatch,
} from '../../envoy/generated/envoy/config/route/v3/route_components_pb.js';
import { DataSourceSchema } from '../../envoy/generated/envoy/config/core/v3/base_pb.js';
import { RegexMatchAndSubstituteSchema, RegexMatcherSchema } from '../../envoy/generated/envoy/type/matcher/v3/regex_pb.js';
import type { Destination, HTTPRoute, HTTPRouteDestination, HTTPMatchRequest, VirtualService } from '../config/kinds.js';
import type { Service } from '../registry/model.js';
import { duration, seconds } from './duration.js';
import type { MeshIndex } from './mesh-index.js';
import { outboundCluster } from './names.js';
import { effectivePolicy } from './policy.js';
import { within } from './errors.js';
import { matchApplies, routeMatch, type RouteScope } from './route-match.js';
import { CORS_FILTER, FAULT_FILTER, corsConfig, faultConfig, hashPolicy, headersToAdd, headersToRemove, mirrorPolicy, retryPolicy } from './route-policies.js';

export interface RouteContext extends RouteScope {
  readonly index: MeshIndex;
  /** Proxyless gRPC understands a subset of route fields (see grpc.ts); the rest is left out. */
  readonly target: 'sidecar' | 'grpc';
  /** Routes already built in this generate call, by "<host>:<port>". */
  readonly memo?: Map<string, Route[]>;
}

/**
 * The routes of `svc`'s virtual host on the route configuration of `ctx.port`: its
 * VirtualService's http routes that apply to this proxy and port, in order (one Envoy route
 * per Istio match), else Istio's default route to the service's cluster.
 */
export function serviceRoutes(svc: Service, ctx: RouteContext): Route[] {
  // The per-port route configuration and http_proxy hold the same routes: build them once.
  const key = `${svc.hostname}:${ctx.port}`;
  const known = ctx.memo?.get(key);
  if (known) return known;
  const routes = buildServiceRoutes(svc, ctx);
  ctx.memo?.set(key, routes);
  return routes;
}

function buildServiceRoutes(svc: Service, ctx: RouteContext): Route[] {
  const vs = ctx.index.virtualService(svc);
  const routes: Route[] = [];
  if (vs) {
    const http = vs.spec.http ?? [];
    for (let i = 0; i < http.length; i++) {
      const built = within(`VirtualService ${vs.metadata.namespace}/${vs.metadata.name}`, `spec.http[${i}]`, () => httpRoute(http[i]!, vs, ctx));
      const all = built.findIndex((r) => r.match !== undefined && catchAll(r.match));
      // As Istio: nothing after a route that matches everything could ever be selected.
      if (all >= 0) { routes.push(...built.slice(0, all + 1)); break; }
      routes.push(...built);
    }
  }
  // A host only a VirtualService names has no cluster of its own to fall back to.
  if (routes.length === 0 && svc.source.startsWith('VirtualService ')) return [];
  return routes.length > 0 ? routes : [defaultRoute(svc, ctx)];
}

/** Istio's isCatchAllMatch: prefix "/" (case-insensitive or not) with no header or query condition. */
function catchAll(m: RouteMatch): boolean {
  return m.pathSpecifier.case === 'prefix' && m.pathSpecifier.value === '/' && m.headers.length === 0 && m.queryParameters.length === 0;
}

/** Istio's default route: everything to `outbound|<port>||<host>`, no timeout, default retries. */
export function defaultRoute(svc: Service, ctx: RouteContext): Route {
  const cluster = outboundCluster(ctx.port, '', svc.hostname);
  const action = create(RouteActionSchema, { clusterSpecifier: { case: 'cluster', value: cluster } });
  const hp = hashPolicy(effectivePolicy(ctx.index.destinationRule(svc.hostname, ctx.proxy), ctx.port).loadBalancer?.consistentHash);
  if (hp) action.hashPolicy = [hp];
  if (ctx.target === 'sidecar') {
    applyTimeout(action, undefined);
    action.retryPolicy = retryPolicy(undefined, hp !== undefined);
  }
  return create(RouteSchema, { name: 'default', match: routeMatch(undefined), action: { case: 'route', value: action } });
}

function httpRoute(r: HTTPRoute, vs: VirtualService, ctx: RouteContext): Route[] {
  const matches: (HTTPMatchRequest | undefined)[] = r.match && r.match.length > 0 ? r.match.filter((m) => matchApplies(m, ctx)) : [undefined];
  if (ctx.target === 'grpc' && (r.redirect || r.directResponse)) return []; // grpc-js-xds NACKs these actions
  return matches.map((m) => {
    const route = create(RouteSchema, { name: m?.name ? `${r.name ?? ''}.${m.name}` : r.name ?? '', match: routeMatch(m) });
    fill(route, r, vs, ctx);
    return route;
  });
}

function fill(route: Route, r: HTTPRoute, vs: VirtualService, ctx: RouteContext): void {
  const ns = vs.metadata.namespace;
  if (r.redirect) {
    const rd = r.redirect;
    const a = create(RedirectActionSchema, { hostRedirect: rd.authority ?? '', responseCode: redirectCode(rd.redirectCode) });
    if (rd.uri) a.pathRewriteSpecifier = { case: 'pathRedirect', value: rd.uri };
    if (rd.scheme) a.schemeRewriteSpecifier = { case: 'schemeRedirect', value: rd.scheme };
    if (rd.port !== undefined) a.portRedirect = rd.port;
    else if (rd.derivePort === 'FROM_REQUEST_PORT') a.portRedirect = ctx.port;
    route.action = { case: 'redirect', value: a };
  } else if (r.directResponse) {
    const d = r.directResponse;
    const a = create(DirectResponseActionSchema, { status: d.status });
    if (d.body?.string !== undefined) a.body = create(DataSourceSchema, { specifier: { case: 'inlineString', value: d.body.string } });
    else if (d.body?.bytes !== undefined) a.body = create(DataSourceSchema, { specifier: { case: 'inlineBytes', value: Buffer.from(d.body.bytes, 'base64') } });
    route.action = { case: 'directResponse', value: a };
  } else {
    route.action = { case: 'route', value: forward(r, ns, ctx, route) };
  }
  if (r.fault) route.typedPerFilterConfig[FAULT_FILTER] = faultConfig(r.fault);
  if (ctx.target === 'grpc') return;
  if (r.corsPolicy) route.typedPerFilterConfig[CORS_FILTER] = corsConfig(r.corsPolicy);
  route.requestHeadersToAdd.push(...headersToAdd(r.headers?.request));
  route.requestHeadersToRemove.push(...headersToRemove(r.headers?.request));
  route.responseHeadersToAdd.push(...headersToAdd(r.headers?.response));
  route.responseHeadersToRemove.push(...headersToRemove(r.headers?.response));
}

function forward(r: HTTPRoute, ns: string, ctx: RouteContext, route: Route): RouteAction {
  const action = create(RouteActionSchema);
  const all = r.route ?? [];
  // Istio drops 0-weight destinations when others remain; a single destination takes all.
  const dests = all.length > 1 ? all.filter((d) => (d.weight ?? 0) > 0) : all;
  if (dests.length === 1) {
    const d = dests[0]!;
    action.clusterSpecifier = { case: 'cluster', value: clusterFor(d.destination, ns, ctx) };
    if (ctx.target === 'sidecar') {
      // One destination: its header operations join the route's (Istio does the same).
      route.requestHeadersToAdd.push(...headersToAdd(d.headers?.request));
      route.requestHeadersToRemove.push(...headersToRemove(d.headers?.request));
      route.responseHeadersToAdd.push(...headersToAdd(d.headers?.response));
      route.responseHeadersToRemove.push(...headersToRemove(d.headers?.response));
    }
  } else {
    action.clusterSpecifier = {
      case: 'weightedClusters',
      value: create(WeightedClusterSchema, { clusters: dests.map((d) => weighted(d, ns, ctx)) }),
    };
  }
  let hashing = false;
  for (const d of dests) {
    const host = ctx.index.resolve(d.destination.host, ns);
    const hp = hashPolicy(effectivePolicy(ctx.index.destinationRule(host, ctx.proxy), portFor(d.destination, host, ctx), d.destination.subset).loadBalancer?.consistentHash);
    if (hp) { action.hashPolicy = [hp]; hashing = true; break; }
  }
  if (ctx.target === 'grpc') {
    if (r.timeout) action.maxStreamDuration = create(RouteAction_MaxStreamDurationSchema, { maxStreamDuration: duration(r.timeout) });
    if (r.retries) action.retryPolicy = retryPolicy(r.retries, true);
    return action;
  }
  applyTimeout(action, r.timeout);
  action.retryPolicy = retryPolicy(r.retries, hashing);
  if (r.mirror) action.requestMirrorPolicies = [mirrorPolicy(clusterFor(r.mirror, ns, ctx), r.mirrorPercentage)];
  if (r.rewrite?.uri !== undefined) action.prefixRewrite = r.rewrite.uri;
  if (r.rewrite?.uriRegexRewrite) {
    action.regexRewrite = create(RegexMatchAndSubstituteSchema, { pattern: create(RegexMatcherSchema, { regex: r.rewrite.uriRegexRewrite.match }), substitution: r.rewrite.uriRegexRewrite.rewrite });
  }
  if (r.rewrite?.authority) action.hostRewriteSpecifier = { case: 'hostRewriteLiteral', value: r.rewrite.authority };
  return action;
}

function weighted(d: HTTPRouteDestination, ns: string, ctx: RouteContext) {
  const cw = create(WeightedCluster_ClusterWeightSchema, { name: clusterFor(d.destination, ns, ctx), weight: d.weight ?? 0 });
  if (ctx.target === 'sidecar') {
    cw.requestHeadersToAdd = headersToAdd(d.headers?.request);
    cw.requestHeadersToRemove = headersToRemove(d.headers?.request);
    cw.responseHeadersToAdd = headersToAdd(d.headers?.response);
    cw.responseHeadersToRemove = headersToRemove(d.headers?.response);
  }
  return cw;
}

/** Istio's setTimeout: the VirtualService's timeout, else 0s (none); gRPC's deadline header capped alike. */
function applyTimeout(action: RouteAction, timeout: string | undefined): void {
  action.timeout = timeout ? duration(timeout) : seconds(0);
  action.maxGrpcTimeout = timeout ? duration(timeout) : seconds(0);
}

/**
 * A destination's port: as written; else the service's only port; else the port of the route
 * configuration being built (Istio's rule for an omitted destination port).
 */
function portFor(d: Destination, host: string, ctx: RouteContext): number {
  if (d.port?.number) return d.port.number;
  const svc = ctx.index.service(host);
  if (svc && svc.ports.length === 1) return svc.ports[0]!.number;
  return ctx.port;
}

export function clusterFor(d: Destination, ns: string, ctx: RouteContext): string {
  const host = ctx.index.resolve(d.host, ns);
  return outboundCluster(portFor(d, host, ctx), d.subset ?? '', host);
}

function redirectCode(code: number | undefined): RedirectAction_RedirectResponseCode {
  switch (code) {
    case 302: return RedirectAction_RedirectResponseCode.FOUND;
    case 303: return RedirectAction_RedirectResponseCode.SEE_OTHER;
    case 307: return RedirectAction_RedirectResponseCode.TEMPORARY_REDIRECT;
    case 308: return RedirectAction_RedirectResponseCode.PERMANENT_REDIRECT;
    default: return RedirectAction_RedirectResponseCode.MOVED_PERMANENTLY;
  }
}
