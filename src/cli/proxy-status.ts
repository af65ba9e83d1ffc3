import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import { table } from './table.js';
import { TYPE_URL } from '../envoy/xds-type-urls.js';

/*
 * `tsmesh proxy-status` and `tsmesh proxy-config`: what the control plane knows of each
 * connected proxy (GET /debug/syncz) and what it has sent to one (GET /debug/config_dump).
 * Rendering is pure; main.ts does the HTTP.
 */

const SHORT: Readonly<Record<string, string>> = {
  [TYPE_URL.cluster]: 'CDS', [TYPE_URL.listener]: 'LDS', [TYPE_URL.endpoint]: 'EDS', [TYPE_URL.route]: 'RDS', [TYPE_URL.secret]: 'SDS',
};

/** One entry of /debug/syncz (the control plane's ProxyStatus, as JSON). */
export interface SyncEntry {
  id: string;
  identity: { name: string; namespace: string; generator?: string };
  stream: string;
  connectedAt: string;
  lastPushAt?: string;
  types: Record<string, { state: string; sentVersion?: string; ackedVersion?: string; lastNack?: { message: string; at: string } }>;
}

export function renderProxyStatus(entries: readonly SyncEntry[], now = Date.now()): string {
  if (entries.length === 0) return 'No proxies are connected.\n';
  const cols = ['CDS', 'LDS', 'EDS', 'RDS'];
  const rows = [...entries].sort((a, b) => a.id.localeCompare(b.id)).map((e) => {
    const byShort = new Map(Object.entries(e.types).map(([url, s]) => [SHORT[url] ?? url, s]));
    return [
      `${e.identity.name}.${e.identity.namespace}`,
      e.stream.toUpperCase(),
      ...cols.map((c) => { const s = byShort.get(c); return s ? s.state.replace('_', ' ') : 'IGNORED'; }),
      e.lastPushAt ? ago(now - Date.parse(e.lastPushAt)) : '-',
      e.id,
    ];
  });
  let text = table(['NAME', 'XDS', ...cols, 'LAST PUSH', 'NODE ID'], rows);
  const nacks = entries.flatMap((e) => Object.entries(e.types).filter(([, s]) => s.lastNack).map(([url, s]) => `  ${e.identity.name}.${e.identity.namespace} ${SHORT[url] ?? url} (${s.state}): ${s.lastNack!.message}`));
  if (nacks.length > 0) text += `\nRejected updates (last NACK per type):\n${nacks.join('\n')}\n`;
  return text;
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.floor(s / 60)}m${s % 60}s ago` : `${Math.floor(s / 3600)}h ago`;
}

/** Finds a proxy by node id, `name.namespace` or `name` (when unique). */
export function findProxy(entries: readonly SyncEntry[], ref: string): SyncEntry | string {
  const exact = entries.find((e) => e.id === ref);
  if (exact) return exact;
  const byName = entries.filter((e) => `${e.identity.name}.${e.identity.namespace}` === ref || e.identity.name === ref);
  if (byName.length === 1) return byName[0]!;
  if (byName.length > 1) return `"${ref}" matches ${byName.length} proxies: ${byName.map((e) => e.id).join(', ')}`;
  return `no connected proxy "${ref}" (see tsmesh proxy-status)`;
}

export type ConfigKind = 'listeners' | 'routes' | 'clusters' | 'endpoints';
export const CONFIG_TYPE: Readonly<Record<ConfigKind, string>> = {
  listeners: TYPE_URL.listener, routes: TYPE_URL.route, clusters: TYPE_URL.cluster, endpoints: TYPE_URL.endpoint,
};

type J = JsonObject;
const obj = (v: JsonValue | undefined): J => (v && typeof v === 'object' && !Array.isArray(v) ? v : {});
const arr = (v: JsonValue | undefined): JsonValue[] => (Array.isArray(v) ? v : []);
const str = (v: JsonValue | undefined): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

/** istioctl-like tables of the resources (proto3 JSON) a proxy was sent. */
export function renderProxyConfig(kind: ConfigKind, resources: readonly JsonValue[]): string {
  const rs = resources.map(obj);
  switch (kind) {
    case 'clusters':
      return table(['SERVICE FQDN', 'PORT', 'SUBSET', 'DIRECTION', 'TYPE'], rs.map((c) => {
        const name = str(c['name']);
        const [dir, port, subset, host] = name.split('|');
        return host !== undefined ? [host || '-', port || '-', subset || '-', dir ?? '-', str(c['type']) || 'EDS'] : [name, '-', '-', '-', str(c['type'])];
      }).sort(byCells));
    case 'listeners':
      return table(['NAME', 'ADDRESS', 'PORT', 'BOUND', 'DESTINATION'], rs.map((l) => {
        const sa = obj(obj(l['address'])['socketAddress']);
        const api = l['apiListener'] !== undefined;
        const chains = [...arr(l['filterChains']), ...(l['defaultFilterChain'] ? [l['defaultFilterChain']] : [])].map(obj);
        const dest = api ? 'ApiListener (proxyless gRPC)' : chains.map(describeChain).join('; ');
        return [str(l['name']), api ? '-' : str(sa['address']), api ? '-' : str(sa['portValue']), l['bindToPort'] === false ? 'no' : api ? '-' : 'yes', dest];
      }).sort(byCells));
    case 'routes':
      return table(['NAME', 'VIRTUAL HOST', 'DOMAINS', 'ROUTES'], rs.flatMap((r) => arr(r['virtualHosts']).map(obj).map((vh) => {
        const domains = arr(vh['domains']).map(str);
        return [str(r['name']), str(vh['name']), domains.length > 3 ? `${domains.slice(0, 3).join(', ')} +${domains.length - 3} more` : domains.join(', '), String(arr(vh['routes']).length)];
      })).sort(byCells));
    case 'endpoints':
      return table(['ENDPOINT', 'STATUS', 'WEIGHT', 'CLUSTER'], rs.flatMap((cla) => arr(cla['endpoints']).map(obj).flatMap((le) => arr(le['lbEndpoints']).map(obj).map((e) => {
        const sa = obj(obj(obj(e['endpoint'])['address'])['socketAddress']);
        return [`${str(sa['address'])}:${str(sa['portValue'])}`, str(e['healthStatus']) || 'HEALTHY', str(e['loadBalancingWeight']) || '1', str(cla['clusterName'])];
      }))).sort(byCells));
  }
}

function describeChain(chain: J): string {
  const filters = arr(chain['filters']).map(obj);
  const last = filters.at(-1);
  if (!last) return '-';
  const cfg = obj(last['typedConfig']);
  const rds = obj(cfg['rds']);
  if (rds['routeConfigName'] !== undefined) return `Route: ${str(rds['routeConfigName'])}`;
  if (cfg['routeConfig'] !== undefined) return `Inline route: ${str(obj(cfg['routeConfig'])['name'])}`;
  if (cfg['cluster'] !== undefined) return `Cluster: ${str(cfg['cluster'])}`;
  if (cfg['weightedClusters'] !== undefined) return `Weighted: ${arr(obj(cfg['weightedClusters'])['clusters']).map((c) => str(obj(c)['name'])).join(', ')}`;
  return str(last['name']);
}

function byCells(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < a.length; i++) { const c = (a[i] ?? '').localeCompare(b[i] ?? ''); if (c !== 0) return c; }
  return 0;
}
