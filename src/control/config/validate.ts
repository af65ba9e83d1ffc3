/*
 * Validation of raw mesh resources (already parsed from YAML/JSON) before anything is stored:
 * the envelope (apiVersion in KINDS, kind, metadata), then the kind's spec. Pure.
 */
import { KINDS, type Kind, type MeshResource } from './kinds.js';
import { Checker, type Obj } from './checker.js';
import { describeValue, resourceLabel, type ConfigIssue } from './issues.js';
import { isDns1123Label, isDns1123Subdomain } from './names.js';
import { validateServiceEntry, validateWorkloadEntry, validateWorkloadGroup } from './validate-workloads.js';
import { validateDestinationRule } from './validate-destination-rule.js';
import { validateVirtualService } from './validate-virtual-service.js';
import { validateMeshConfig } from './validate-mesh-config.js';
import { validateAuthorizationPolicy, validatePeerAuthentication, validateRequestAuthentication } from './validate-security.js';

export const DEFAULT_NAMESPACE = 'default';

const SPEC_VALIDATORS: Readonly<Record<Kind, (c: Checker, spec: unknown) => void>> = {
  ServiceEntry: validateServiceEntry,
  WorkloadEntry: validateWorkloadEntry,
  WorkloadGroup: validateWorkloadGroup,
  DestinationRule: validateDestinationRule,
  VirtualService: validateVirtualService,
  MeshConfig: validateMeshConfig,
  PeerAuthentication: validatePeerAuthentication,
  AuthorizationPolicy: validateAuthorizationPolicy,
  RequestAuthentication: validateRequestAuthentication,
};

/** Metadata the server sets; accepted on input (so `get -o yaml | apply` round-trips) and replaced. */
const SERVER_METADATA = ['resourceVersion', 'creationTimestamp', 'uid', 'generation'];

export interface ValidatedResource {
  readonly resource?: MeshResource;
  readonly issues: readonly ConfigIssue[];
}

/** A raw document and where it came from ("bookinfo.yaml document 2"), for messages. */
export interface RawDocument {
  readonly value: unknown;
  readonly origin: string;
}

/** kubectl's short names for Istio's kinds (`kubectl get vs`). */
const SHORT_NAMES: Readonly<Record<string, Kind>> = { se: 'ServiceEntry', we: 'WorkloadEntry', wg: 'WorkloadGroup', dr: 'DestinationRule', vs: 'VirtualService', mc: 'MeshConfig', pa: 'PeerAuthentication', ap: 'AuthorizationPolicy', ra: 'RequestAuthentication' };

/** Finds the kind among KINDS by Kind, plural or short name, case-insensitively (for CLIs and URLs). */
export function resolveKind(name: string): Kind | undefined {
  const n = name.toLowerCase();
  for (const [k, info] of Object.entries(KINDS) as [Kind, (typeof KINDS)[Kind]][]) {
    if (k.toLowerCase() === n || info.plural === n) return k;
  }
  return SHORT_NAMES[n];
}

/**
 * Validates one raw resource; returns it normalised (namespace defaulted, server-set metadata
 * dropped) when it has no error. Every problem is reported, not only the first.
 */
export function validateResource(doc: RawDocument): ValidatedResource {
  // Validation normalises (null fields dropped) and the result is stored: never the caller's object.
  let raw: unknown;
  try {
    raw = structuredClone(doc.value);
  } catch {
    return { issues: [{ resource: doc.origin, path: '', message: 'not plain data', severity: 'error', source: doc.origin }] };
  }
  const pre = new Checker(doc.origin, doc.origin);
  const top = pre.object('', raw, ['apiVersion', 'kind', 'metadata', 'spec']);
  if (!top) {
    if (raw === undefined || raw === null) pre.error('', 'empty document');
    return { issues: pre.issues };
  }
  const kindName = top['kind'];
  const kind = typeof kindName === 'string' && kindName in KINDS ? (kindName as Kind) : undefined;
  const meta = (top['metadata'] && typeof top['metadata'] === 'object' && !Array.isArray(top['metadata']) ? top['metadata'] : {}) as Obj;
  const name = typeof meta['name'] === 'string' && meta['name'] !== '' ? meta['name'] : undefined;
  const namespace = meta['namespace'] === undefined || meta['namespace'] === null || meta['namespace'] === '' ? DEFAULT_NAMESPACE : meta['namespace'];
  // Messages name the resource as soon as it can be named; until then, by where it came from.
  const label = kind && name && typeof namespace === 'string' ? resourceLabel(kind, namespace, name) : kind ? `${kind} (${doc.origin})` : doc.origin;
  const c = new Checker(label, doc.origin);
  for (const i of pre.issues) c.error(i.path, i.message);

  if (!kind) {
    c.error('kind', typeof kindName === 'string' ? `expected one of ${Object.keys(KINDS).join(', ')}, got ${describeValue(kindName)}` : 'required');
    return { issues: c.issues };
  }
  if (c.required('apiVersion', top['apiVersion'])) {
    const versions = KINDS[kind].apiVersions;
    if (!versions.includes(top['apiVersion'] as string)) c.error('apiVersion', `expected ${versions.join(' or ')} for ${kind}, got ${describeValue(top['apiVersion'])}`);
  }
  const m = c.object('metadata', top['metadata'], ['name', 'namespace', 'labels', 'annotations', ...SERVER_METADATA]);
  if (!c.required('metadata', top['metadata']) || !m) return { issues: c.issues };
  if (c.required('metadata.name', m['name'])) {
    const n = c.string('metadata.name', m['name']);
    if (n !== undefined && !isDns1123Subdomain(n)) c.error('metadata.name', `expected a DNS-1123 name (lowercase letters, digits, "-" and "."), got ${describeValue(n)}`);
  }
  if (m['namespace'] !== undefined && m['namespace'] !== null && m['namespace'] !== '') {
    const ns = c.string('metadata.namespace', m['namespace']);
    if (ns !== undefined && !isDns1123Label(ns)) c.error('metadata.namespace', `expected a DNS-1123 label (lowercase letters, digits, "-", at most 63), got ${describeValue(ns)}`);
  }
  c.labels('metadata.labels', m['labels']);
  c.stringMap('metadata.annotations', m['annotations']);
  if (c.required('spec', top['spec'])) SPEC_VALIDATORS[kind](c, top['spec']);
  if (c.issues.length > 0) return { issues: c.issues };

  const metadata: Obj = { name: m['name'], namespace };
  if (m['labels'] !== undefined && m['labels'] !== null) metadata['labels'] = m['labels'];
  if (m['annotations'] !== undefined && m['annotations'] !== null) metadata['annotations'] = m['annotations'];
  const resource = { apiVersion: top['apiVersion'], kind, metadata, spec: top['spec'] } as unknown as MeshResource;
  return { resource, issues: [] };
}

/**
 * Validates a batch (one apply, one file): every resource, plus "defined twice in this input".
 * `resources` is complete only when `issues` is empty; callers store all or nothing.
 */
export function validateAll(docs: readonly RawDocument[]): { resources: MeshResource[]; issues: ConfigIssue[] } {
  const resources: MeshResource[] = [];
  const issues: ConfigIssue[] = [];
  const seen = new Map<string, string>();
  for (const d of docs) {
    const r = validateResource(d);
    issues.push(...r.issues);
    if (!r.resource) continue;
    const key = resourceKey(r.resource);
    const first = seen.get(key);
    if (first !== undefined) {
      issues.push({ resource: resourceLabel(r.resource.kind, r.resource.metadata.namespace, r.resource.metadata.name), path: '', message: `defined twice in the same input (${first} and ${d.origin})`, severity: 'error', source: d.origin });
      continue;
    }
    seen.set(key, d.origin);
    resources.push(r.resource);
  }
  return { resources, issues };
}

/** "Kind/namespace/name": the identity of a stored resource. */
export function resourceKey(r: { kind: string; metadata: { namespace: string; name: string } }): string {
  return `${r.kind}/${r.metadata.namespace}/${r.metadata.name}`;
}
