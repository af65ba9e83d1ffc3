import { create } from '@bufbuild/protobuf';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../envoy/generated/envoy/config/route/v3/route_pb.js';
import { VirtualHostSchema, RouteSchema, RouteActionSchema, DirectResponseActionSchema, type VirtualHost } from '../../envoy/generated/envoy/config/route/v3/route_components_pb.js';
import type { Service } from '../registry/model.js';
import { isHttp, portProtocol } from '../registry/protocol.js';
import { domainsFor, hostAliases } from './hosts.js';
import { serviceRoutes, type RouteContext } from './http-routes.js';
import { HTTP_PROXY_ROUTE, PASSTHROUGH } from './names.js';
import { seconds } from './duration.js';
import { routeMatch } from './route-match.js';

/** HTTP service ports of the mesh, ascending: one route configuration (and listener) each. */
export function httpPorts(services: readonly Service[]): number[] {
  const ports = new Set<number>();
  for (const s of services) for (const p of s.ports) if (isHttp(portProtocol(p))) ports.add(p.number);
  return [...ports].sort((a, b) => a - b);
}

/**
 * The route configuration Istio names by port ("9080"): a virtual host `<host>:<port>` per
 * service with an HTTP port of that number, then the catch-all for unknown hosts.
 * A domain already taken by an earlier virtual host is left out (Envoy refuses duplicates).
 */
export function portRouteConfig(port: number, services: readonly Service[], ctx: Omit<RouteContext, 'port'>, registryOnly: boolean): RouteConfiguration {
  const used = new Set<string>();
  const vhosts: VirtualHost[] = [];
  for (const svc of services) {
    if (!svc.ports.some((p) => p.number === port && isHttp(portProtocol(p)))) continue;
    const routes = serviceRoutes(svc, { ...ctx, port });
    if (routes.length === 0) continue;
    const domains = claim(used, domainsFor(svc, port, ctx.proxy.namespace));
    if (domains.length === 0) continue;
    vhosts.push(vhost(`${svc.hostname}:${port}`, domains, routes));
  }
  vhosts.push(catchAll(registryOnly));
  return create(RouteConfigurationSchema, { name: String(port), virtualHosts: vhosts });
}

/**
 * `http_proxy`: what the outbound port serves to applications that use it as their HTTP proxy
 * (absolute-form requests, so the Host carries the port): every service's virtual hosts with
 * `host:port` domains, plus the bare names for port 80 (a client omits the default port).
 */
export function httpProxyRouteConfig(services: readonly Service[], ctx: Omit<RouteContext, 'port'>, registryOnly: boolean): RouteConfiguration {
  const used = new Set<string>();
  const vhosts: VirtualHost[] = [];
  for (const svc of services) {
    for (const p of svc.ports) {
      if (!isHttp(portProtocol(p))) continue;
      const routes = serviceRoutes(svc, { ...ctx, port: p.number });
      if (routes.length === 0) continue;
      const names = hostAliases(svc, ctx.proxy.namespace);
      const domains = claim(used, [...names.map((n) => `${n}:${p.number}`), ...(p.number === 80 ? names : [])]);
      if (domains.length === 0) continue;
      vhosts.push(vhost(`${svc.hostname}:${p.number}`, domains, routes));
    }
  }
  vhosts.push(catchAll(registryOnly));
  return create(RouteConfigurationSchema, { name: HTTP_PROXY_ROUTE, virtualHosts: vhosts });
}

/** The domains not yet taken in this route configuration, now taken. */
function claim(used: Set<string>, domains: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of domains) if (!used.has(d)) { used.add(d); out.push(d); }
  return out;
}

function vhost(name: string, domains: string[], routes: ReturnType<typeof serviceRoutes>): VirtualHost {
  return create(VirtualHostSchema, { name, domains, routes, includeRequestAttemptCount: true });
}

/**
 * Istio's catch-all virtual host: `allow_any` forwards unknown hosts to PassthroughCluster;
 * `block_all` (REGISTRY_ONLY) answers 502 directly.
 */
function catchAll(registryOnly: boolean): VirtualHost {
  if (registryOnly) {
    return create(VirtualHostSchema, {
      name: 'block_all', domains: ['*'], includeRequestAttemptCount: true,
      routes: [create(RouteSchema, { name: 'block_all', match: routeMatch(undefined), action: { case: 'directResponse', value: create(DirectResponseActionSchema, { status: 502 }) } })],
    });
  }
  return create(VirtualHostSchema, {
    name: 'allow_any', domains: ['*'], includeRequestAttemptCount: true,
    routes: [create(RouteSchema, {
      name: 'allow_any', match: routeMatch(undefined),
      action: { case: 'route', value: create(RouteActionSchema, { clusterSpecifier: { case: 'cluster', value: PASSTHROUGH }, timeout: seconds(0), maxGrpcTimeout: seconds(0) }) },
    })],
  });
}
