import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { parse } from 'yaml';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../../../src/envoy/generated/envoy/config/route/v3/route_pb.js';
import { envoyRegistry } from '../../../../src/envoy/full-registry.js';
import { HeaderMap } from '../../../../src/proxy/http/headers.js';
import { compileRouteConfig } from '../../../../src/proxy/http/route/compile.js';
import type { RouteRequest, RouteTable } from '../../../../src/proxy/http/route/route-table.js';

/** A RouteConfiguration from YAML (proto3 JSON mapping, snake_case accepted), decoded strictly. */
export function routeConfig(yaml: string): RouteConfiguration {
  return fromJson(RouteConfigurationSchema, parse(yaml) as JsonValue, { registry: envoyRegistry });
}

export function table(yaml: string, path = 'route_config'): RouteTable {
  return compileRouteConfig(routeConfig(yaml), path);
}

export interface ReqOptions {
  method?: string;
  scheme?: string;
  /** Header name → value, or values for a repeated header. */
  headers?: Record<string, string | string[]>;
}

export function req(authority: string, path: string, o: ReqOptions = {}): RouteRequest {
  const h = new HeaderMap();
  for (const [k, v] of Object.entries(o.headers ?? {})) for (const x of Array.isArray(v) ? v : [v]) h.add(k, x);
  return { authority, path, method: o.method ?? 'GET', ...(o.scheme ? { scheme: o.scheme } : {}), headers: h };
}

/** One virtual host `*` with one route: `match` (YAML flow or block text) → direct_response 200. */
export function oneRoute(match: string, extra = ''): RouteTable {
  return table(`
virtual_hosts:
- name: vh
  domains: ['*']
  routes:
  - name: r
    match: ${match}
    direct_response: { status: 200 }
${extra}`);
}

/** YAML for a route config with one `*` virtual host holding `routes` (a YAML list, indented 2). */
export function withRoutes(routes: string, vhostExtra = '', configExtra = ''): string {
  return `
${configExtra}
virtual_hosts:
- name: vh
  domains: ['*']
${vhostExtra}
  routes:
${routes}`;
}
