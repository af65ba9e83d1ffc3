/*
 * ServiceEntry, WorkloadEntry and WorkloadGroup (networking.istio.io/v1), with Istio's rules
 * (pilot/pkg/config/validation): hosts without a bare "*", unique port numbers and names,
 * endpoints or workloadSelector but not both, STATIC endpoints are IPs, DNS needs real hosts.
 */
import { describeValue, keyPath } from './issues.js';
import { isDns1123Subdomain, isIp } from './names.js';
import type { Checker, Obj } from './checker.js';

/** Istio's protocol names (case-insensitive); UDP exists in Istio but no tsmesh path serves it. */
export const PROTOCOLS = ['HTTP', 'HTTPS', 'HTTP2', 'GRPC', 'GRPC-WEB', 'TCP', 'TLS', 'MONGO', 'REDIS', 'MYSQL'] as const;

export function validateServiceEntry(c: Checker, raw: unknown): void {
  const spec = c.object('spec', raw, ['hosts', 'addresses', 'ports', 'location', 'resolution', 'endpoints', 'workloadSelector', 'exportTo', 'subjectAltNames']);
  if (!spec) return;
  const resolution = c.oneOf('spec.resolution', spec['resolution'], ['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN'] as const) ?? 'NONE';
  c.oneOf('spec.location', spec['location'], ['MESH_EXTERNAL', 'MESH_INTERNAL'] as const);
  const hosts = c.array('spec.hosts', spec['hosts']);
  c.required('spec.hosts', spec['hosts']);
  const seen = new Set<string>();
  hosts?.forEach((h, i) => {
    const p = `spec.hosts[${i}]`;
    const s = c.host(p, h, { wildcard: true });
    if (s === undefined) return;
    if (s === '*') c.error(p, 'a ServiceEntry host cannot be "*"');
    if (seen.has(s)) c.error(p, `duplicate host ${describeValue(s)}`);
    seen.add(s);
    if ((resolution === 'DNS' || resolution === 'DNS_ROUND_ROBIN') && s.startsWith('*') && spec['endpoints'] === undefined) c.error(p, `a wildcard host needs endpoints with resolution ${resolution}`);
  });
  c.stringList('spec.addresses', spec['addresses'], (p, s) => c.ipOrCidr(p, s));

  const portNames = new Set<string>();
  const portNumbers = new Set<number>();
  c.array('spec.ports', spec['ports'])?.forEach((raw, i) => {
    const p = `spec.ports[${i}]`;
    const o = c.object(p, raw, ['number', 'protocol', 'name', 'targetPort']);
    if (!o) return;
    if (c.required(`${p}.number`, o['number'])) {
      const n = c.port(`${p}.number`, o['number']);
      if (n !== undefined && portNumbers.has(n)) c.error(`${p}.number`, `duplicate port ${n}`);
      if (n !== undefined) portNumbers.add(n);
    }
    if (c.required(`${p}.name`, o['name'])) {
      const name = c.string(`${p}.name`, o['name']);
      if (name !== undefined && portNames.has(name)) c.error(`${p}.name`, `duplicate port name ${describeValue(name)}`);
      if (name !== undefined) portNames.add(name);
    }
    const proto = c.string(`${p}.protocol`, o['protocol']);
    if (proto !== undefined && !(PROTOCOLS as readonly string[]).includes(proto.toUpperCase())) c.error(`${p}.protocol`, `expected one of ${PROTOCOLS.join(', ')}, got ${describeValue(proto)}`);
    c.port(`${p}.targetPort`, o['targetPort']);
  });

  if (spec['endpoints'] !== undefined && spec['workloadSelector'] !== undefined) c.error('spec', 'only one of endpoints and workloadSelector may be set');
  c.array('spec.endpoints', spec['endpoints'])?.forEach((raw, i) => {
    const p = `spec.endpoints[${i}]`;
    const o = c.object(p, raw, WORKLOAD_ENTRY_FIELDS);
    if (!o) return;
    validateWorkloadEntryFields(c, p, o, { addressRequired: true });
    const addr = typeof o['address'] === 'string' ? o['address'] : undefined;
    if (addr !== undefined && resolution === 'STATIC' && !isIp(addr)) c.error(`${p}.address`, `expected an IP address with resolution STATIC, got ${describeValue(addr)}`);
    if (o['ports'] && typeof o['ports'] === 'object' && spec['ports'] !== undefined) {
      for (const name of Object.keys(o['ports'] as Obj)) {
        if (!portNames.has(name)) c.error(keyPath(`${p}.ports`, name), `no port named ${describeValue(name)} in spec.ports`);
      }
    }
  });
  if (resolution === 'NONE' && spec['endpoints'] !== undefined) c.error('spec.endpoints', 'not allowed with resolution NONE');
  validateSelector(c, 'spec.workloadSelector', spec['workloadSelector'], 'labels');
  c.exportTo('spec.exportTo', spec['exportTo']);
  c.stringList('spec.subjectAltNames', spec['subjectAltNames']);
}

const WORKLOAD_ENTRY_FIELDS = ['address', 'ports', 'labels', 'network', 'locality', 'weight', 'serviceAccount'] as const;

function validateWorkloadEntryFields(c: Checker, p: string, o: Obj, opts: { addressRequired: boolean }): void {
  if (opts.addressRequired) c.required(`${p}.address`, o['address']);
  const addr = c.string(`${p}.address`, o['address']);
  if (addr !== undefined && addr !== '' && !isIp(addr) && !isDns1123Subdomain(addr.toLowerCase()) && !addr.startsWith('unix://')) c.error(`${p}.address`, `expected an IP address or a DNS name, got ${describeValue(addr)}`);
  const ports = c.map(`${p}.ports`, o['ports']);
  if (ports) for (const [k, v] of Object.entries(ports)) c.port(keyPath(`${p}.ports`, k), v);
  c.labels(`${p}.labels`, o['labels']);
  c.string(`${p}.network`, o['network']);
  c.string(`${p}.locality`, o['locality']);
  c.int(`${p}.weight`, o['weight'], 0, 4294967295);
  const sa = c.string(`${p}.serviceAccount`, o['serviceAccount']);
  if (sa !== undefined && !isDns1123Subdomain(sa)) c.error(`${p}.serviceAccount`, `expected a DNS-1123 name, got ${describeValue(sa)}`);
}

export function validateWorkloadEntry(c: Checker, raw: unknown): void {
  const spec = c.object('spec', raw, WORKLOAD_ENTRY_FIELDS);
  if (!spec) return;
  validateWorkloadEntryFields(c, 'spec', spec, { addressRequired: true });
}

export function validateWorkloadGroup(c: Checker, raw: unknown): void {
  const spec = c.object('spec', raw, ['metadata', 'template'], ['probe']);
  if (!spec) return;
  const meta = c.object('spec.metadata', spec['metadata'], ['labels', 'annotations']);
  if (meta) { c.labels('spec.metadata.labels', meta['labels']); c.stringMap('spec.metadata.annotations', meta['annotations']); }
  if (!c.required('spec.template', spec['template'])) return;
  const t = c.object('spec.template', spec['template'], WORKLOAD_ENTRY_FIELDS);
  if (!t) return;
  // A group's instances register themselves; their address comes from each instance.
  if (t['address'] !== undefined) c.error('spec.template.address', 'must not be set in a WorkloadGroup template');
  validateWorkloadEntryFields(c, 'spec.template', t, { addressRequired: false });
}

/** `{ labels: {...} }` (ServiceEntry) or `{ matchLabels: {...} }` (DestinationRule). */
export function validateSelector(c: Checker, path: string, v: unknown, key: 'labels' | 'matchLabels'): void {
  const o = c.object(path, v, [key]);
  if (!o) return;
  c.labels(`${path}.${key}`, o[key]);
}
