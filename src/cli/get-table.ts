/** `tsmesh get` output: a kubectl-like table (NAMESPACE NAME <kind columns> AGE), YAML or JSON. Pure. */
import { stringify } from 'yaml';
import { table } from './table.js';
import type { Kind, MeshResource } from '../control/config/kinds.js';

type Column = readonly [header: string, value: (r: MeshResource) => string];

const list = (v: readonly string[] | undefined): string => (v && v.length ? JSON.stringify(v) : '');

const KIND_COLUMNS: Readonly<Record<Kind, readonly Column[]>> = {
  ServiceEntry: [
    ['HOSTS', (r) => (r.kind === 'ServiceEntry' ? list(r.spec.hosts) : '')],
    ['LOCATION', (r) => (r.kind === 'ServiceEntry' ? r.spec.location ?? '' : '')],
    ['RESOLUTION', (r) => (r.kind === 'ServiceEntry' ? r.spec.resolution ?? 'NONE' : '')],
  ],
  VirtualService: [
    ['GATEWAYS', (r) => (r.kind === 'VirtualService' ? list(r.spec.gateways) : '')],
    ['HOSTS', (r) => (r.kind === 'VirtualService' ? list(r.spec.hosts) : '')],
  ],
  DestinationRule: [
    ['HOST', (r) => (r.kind === 'DestinationRule' ? r.spec.host : '')],
    ['SUBSETS', (r) => (r.kind === 'DestinationRule' ? (r.spec.subsets ?? []).map((s) => s.name).join(',') : '')],
  ],
  WorkloadEntry: [['ADDRESS', (r) => (r.kind === 'WorkloadEntry' ? r.spec.address ?? '' : '')]],
  WorkloadGroup: [['SERVICE-ACCOUNT', (r) => (r.kind === 'WorkloadGroup' ? r.spec.template.serviceAccount ?? '' : '')]],
  MeshConfig: [
    ['TRUST-DOMAIN', (r) => (r.kind === 'MeshConfig' ? r.spec.trustDomain ?? 'cluster.local' : '')],
    ['OUTBOUND', (r) => (r.kind === 'MeshConfig' ? r.spec.outboundTrafficPolicy?.mode ?? 'ALLOW_ANY' : '')],
  ],
  PeerAuthentication: [
    ['MODE', (r) => (r.kind === 'PeerAuthentication' ? r.spec.mtls?.mode ?? 'UNSET' : '')],
    ['SELECTOR', (r) => (r.kind === 'PeerAuthentication' ? labels(r.spec.selector?.matchLabels) : '')],
  ],
  AuthorizationPolicy: [
    ['ACTION', (r) => (r.kind === 'AuthorizationPolicy' ? r.spec.action ?? 'ALLOW' : '')],
    ['RULES', (r) => (r.kind === 'AuthorizationPolicy' ? String(r.spec.rules?.length ?? 0) : '')],
    ['SELECTOR', (r) => (r.kind === 'AuthorizationPolicy' ? labels(r.spec.selector?.matchLabels) : '')],
  ],
  RequestAuthentication: [
    ['ISSUERS', (r) => (r.kind === 'RequestAuthentication' ? list(r.spec.jwtRules?.map((j) => j.issuer)) : '')],
    ['SELECTOR', (r) => (r.kind === 'RequestAuthentication' ? labels(r.spec.selector?.matchLabels) : '')],
  ],
};

const labels = (l: Readonly<Record<string, string>> | undefined): string => Object.entries(l ?? {}).map(([k, v]) => `${k}=${v}`).join(',');

/** kubectl's short ages: 45s, 12m, 5h, 3d. */
export function age(created: string | undefined, now: Date): string {
  if (!created) return '<unknown>';
  const s = Math.max(0, Math.floor((now.getTime() - Date.parse(created)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 120 * 60) return `${Math.floor(s / 60)}m`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

export function renderTable(kind: Kind, items: readonly MeshResource[], now: Date): string {
  if (items.length === 0) return '';
  const cols: Column[] = [['NAMESPACE', (r) => r.metadata.namespace], ['NAME', (r) => r.metadata.name], ...KIND_COLUMNS[kind], ['AGE', (r) => age(r.metadata.creationTimestamp, now)]];
  return table(cols.map(([h]) => h), items.map((r) => cols.map(([, f]) => f(r))));
}

export function renderYaml(items: readonly MeshResource[]): string {
  return items.map((r) => stringify(r, { lineWidth: 0 })).join('---\n');
}

export function renderJson(items: readonly MeshResource[], single: boolean): string {
  return JSON.stringify(single ? items[0] : { apiVersion: 'v1', kind: 'List', items }, null, 2) + '\n';
}
