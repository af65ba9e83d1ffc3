import { createHash } from 'node:crypto';
import { toBinary, type DescMessage, type Message } from '@bufbuild/protobuf';
import { anyBytes } from './wire.js';
import { ListenerSchema } from '../../envoy/generated/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../../envoy/generated/envoy/config/route/v3/route_pb.js';
import { ClusterSchema } from '../../envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../envoy/generated/envoy/config/endpoint/v3/endpoint_pb.js';
import { TYPE_URL, type ProxyResources, type ResourceScope } from '../translate/types.js';

/** The types the ADS server serves, in the order a push sends them (CDS → EDS → LDS → RDS). */
export const SERVED_TYPES = [TYPE_URL.cluster, TYPE_URL.endpoint, TYPE_URL.listener, TYPE_URL.route] as const;
export type ServedType = (typeof SERVED_TYPES)[number];

export function isServedType(typeUrl: string): typeUrl is ServedType {
  return (SERVED_TYPES as readonly string[]).includes(typeUrl);
}

/** LDS and CDS are the types where an empty SotW subscription means "everything" (legacy wildcard). */
export function allowsLegacyWildcard(typeUrl: ServedType): boolean {
  return typeUrl === TYPE_URL.listener || typeUrl === TYPE_URL.cluster;
}

/** One serialized resource. Shared by every proxy of a shape (and across pushes while unchanged). */
export interface VersionedResource {
  readonly name: string;
  /** Hash of the serialized bytes: equal bytes, equal version. */
  readonly version: string;
  /** The resource packed in a google.protobuf.Any, serialized. */
  readonly anyBytes: Uint8Array;
  readonly message: Message;
  readonly schema: DescMessage;
}

/** The resources of one type by name. The same object while nothing of the type changed. */
export type TypeResources = ReadonlyMap<string, VersionedResource>;

/** Everything one shape of proxy should have, serialized once. */
export interface Snapshot {
  readonly types: ReadonlyMap<ServedType, TypeResources>;
}

const SCHEMA = {
  [TYPE_URL.listener]: ListenerSchema,
  [TYPE_URL.route]: RouteConfigurationSchema,
  [TYPE_URL.cluster]: ClusterSchema,
  [TYPE_URL.endpoint]: ClusterLoadAssignmentSchema,
} as const;

export function hashOf(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('base64url').slice(0, 16);
}

function namedList(res: ProxyResources, type: ServedType): readonly (Message & { name?: string; clusterName?: string })[] {
  switch (type) {
    case TYPE_URL.listener: return res.listeners;
    case TYPE_URL.route: return res.routes;
    case TYPE_URL.cluster: return res.clusters;
    case TYPE_URL.endpoint: return res.endpoints;
  }
}

/**
 * Serializes `res` once. Resources (and whole types) whose bytes equal those in `previous` keep
 * the previous objects, so "did this type change" is an identity check for every stream.
 * Throws on a resource without a name or a name used twice in one type. With scope `routing`,
 * clusters and endpoints are `previous`'s (which must be given), whatever `res` holds of them;
 * with scope `endpoints`, listeners and routes are.
 */
export function buildSnapshot(res: ProxyResources, previous?: Snapshot, scope: ResourceScope = 'all'): Snapshot {
  const types = new Map<ServedType, TypeResources>();
  for (const type of SERVED_TYPES) {
    const schema = SCHEMA[type];
    const before = previous?.types.get(type);
    if (scope !== 'all' && isRouting(type) !== (scope === 'routing')) {
      if (!before) throw new Error(`a ${scope}-only snapshot needs the previous ${type.slice(type.lastIndexOf('.') + 1)}s`);
      types.set(type, before);
      continue;
    }
    const out = new Map<string, VersionedResource>();
    let same = before !== undefined;
    for (const [i, msg] of namedList(res, type).entries()) {
      const name = type === TYPE_URL.endpoint ? msg.clusterName : msg.name;
      if (!name) throw new Error(`${type.slice(type.lastIndexOf('.') + 1)}[${i}]: resource has no name`);
      if (out.has(name)) throw new Error(`${type.slice(type.lastIndexOf('.') + 1)} "${name}": name used twice`);
      const bytes = toBinary(schema, msg as never);
      const version = hashOf(bytes);
      const old = before?.get(name);
      if (old && old.version === version) { out.set(name, old); continue; }
      same = false;
      out.set(name, { name, version, anyBytes: anyBytes(type, bytes), message: msg, schema });
    }
    types.set(type, same && before!.size === out.size ? before! : out);
  }
  return { types };
}

/** The types a `routing` scope regenerates: listeners and routes. */
export function isRouting(type: ServedType): boolean {
  return type === TYPE_URL.listener || type === TYPE_URL.route;
}

const typeVersions = new WeakMap<TypeResources, string>();

/**
 * The SotW version_info of sending `names` of `resources` (or all of them): a hash of the
 * names and resource versions, so the same content always gets the same version.
 */
export function versionOf(resources: TypeResources, names?: Iterable<string>): string {
  if (!names) {
    const cached = typeVersions.get(resources);
    if (cached !== undefined) return cached;
  }
  const parts: string[] = [];
  for (const name of names ?? resources.keys()) {
    const r = resources.get(name);
    if (r) parts.push(`${name}\u0000${r.version}`);
  }
  parts.sort();
  const v = hashOf(parts.join('\u0001'));
  if (!names) typeVersions.set(resources, v);
  return v;
}
