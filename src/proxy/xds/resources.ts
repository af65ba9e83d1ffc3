import { fromBinary, isMessage, type DescMessage, type Message, type Registry } from '@bufbuild/protobuf';
import { anyUnpack, type Any } from '@bufbuild/protobuf/wkt';
import { ListenerSchema, type Listener } from '../../envoy/generated/envoy/config/listener/v3/listener_pb.js';
import { ClusterSchema, type Cluster } from '../../envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../envoy/generated/envoy/config/route/v3/route_pb.js';
import { ClusterLoadAssignmentSchema, type ClusterLoadAssignment } from '../../envoy/generated/envoy/config/endpoint/v3/endpoint_pb.js';
import { ConfigError } from '../../envoy/registry.js';
import { TYPE_URL } from '../../envoy/xds-type-urls.js';
import { findUnsupported } from '../../envoy/support.js';
import { registryFor } from '../../envoy/type-registry.js';
import { compileListener, type ListenerSpec } from '../listener/compile.js';
import { compileCluster, type ClusterSpec } from '../upstream/cluster.js';
import { compileRouteConfig } from '../http/route/compile.js';
import type { RouteTable } from '../http/route/route-table.js';
import { compileEndpoints, type EndpointSpec } from '../upstream/load-assignment.js';
import { SUPPORTED } from '../supported.js';

/** The four xDS resource types tsmesh subscribes to, in the order Envoy initializes them. */
export type XdsKind = 'cluster' | 'endpoint' | 'listener' | 'route';

export const XDS_KINDS: readonly XdsKind[] = ['cluster', 'endpoint', 'listener', 'route'];

export const TYPE_URLS: Readonly<Record<XdsKind, string>> = { listener: TYPE_URL.listener, route: TYPE_URL.route, cluster: TYPE_URL.cluster, endpoint: TYPE_URL.endpoint };

export function kindOfTypeUrl(url: string): XdsKind | undefined {
  return XDS_KINDS.find((k) => TYPE_URLS[k] === url);
}

/** Envoy's names for each type, as its stats and messages use them. */
export const TYPE_NAMES: Readonly<Record<XdsKind, string>> = { listener: 'Listener', route: 'RouteConfiguration', cluster: 'Cluster', endpoint: 'ClusterLoadAssignment' };

export interface MessageOf { listener: Listener; cluster: Cluster; route: RouteConfiguration; endpoint: ClusterLoadAssignment }
export interface CompiledOf { listener: ListenerSpec; cluster: ClusterSpec; route: RouteTable; endpoint: readonly EndpointSpec[] }

const SCHEMAS: { readonly [K in XdsKind]: DescMessage } = { listener: ListenerSchema, cluster: ClusterSchema, route: RouteConfigurationSchema, endpoint: ClusterLoadAssignmentSchema };

/** A resource as received: its name, version (per resource in Delta, the response's in SotW) and bytes. */
export interface RawResource {
  readonly name: string;
  readonly version: string;
  readonly bytes: Uint8Array;
}

/** A resource that passed validation and compiled. */
export interface ValidResource<K extends XdsKind = XdsKind> extends RawResource {
  readonly kind: K;
  readonly message: MessageOf[K];
  readonly compiled: CompiledOf[K];
}

/** A resource that failed: the NACK's error_detail names the resource, the field path and the reason. */
export class XdsResourceError extends Error {
  readonly code = 'TSMESH_BAD_XDS_RESOURCE';
  constructor(readonly kind: XdsKind, readonly resourceName: string, readonly path: string, readonly reason: string) {
    super(`${TYPE_NAMES[kind]} ${JSON.stringify(resourceName)}: ${path ? `${path}: ` : ''}${reason}`);
  }
}

/** The resource's name as its message carries it (Listener.name, ClusterLoadAssignment.cluster_name, ...). */
export function decodeResource<K extends XdsKind>(kind: K, bytes: Uint8Array): MessageOf[K] {
  return fromBinary(SCHEMAS[kind], bytes) as unknown as MessageOf[K];
}

export function nameOf(kind: XdsKind, m: MessageOf[XdsKind]): string {
  return kind === 'endpoint' ? (m as ClusterLoadAssignment).clusterName : (m as Listener | Cluster | RouteConfiguration).name;
}

const ROOT = '\u0000';

/**
 * Validates one resource the way a bootstrap is validated (every set field must be one tsmesh
 * implements, then it must compile) and compiles it. `registry` must know every `Any` type it
 * holds (see registryCovering). Throws XdsResourceError. Pure.
 */
export function validateResource<K extends XdsKind>(kind: K, raw: RawResource, message: MessageOf[K], registry: Registry): ValidResource<K> {
  const fail = (e: ConfigError): never => {
    const path = e.path === ROOT ? '' : e.path.startsWith(`${ROOT}.`) ? e.path.slice(2) : e.path;
    throw new XdsResourceError(kind, raw.name, path, e.reason);
  };
  const unsupported = findUnsupported(message, SCHEMAS[kind], SUPPORTED, registry);
  if (unsupported.length > 0) fail(unsupported[0]!);
  try {
    const compiled = compile(kind, message) as CompiledOf[K];
    return { ...raw, kind, message, compiled };
  } catch (e) {
    if (e instanceof ConfigError) return fail(e);
    throw new XdsResourceError(kind, raw.name, '', (e as Error).message);
  }
}

function compile(kind: XdsKind, m: MessageOf[XdsKind]): CompiledOf[XdsKind] {
  switch (kind) {
    case 'listener': return compileListener(m as Listener, ROOT);
    case 'cluster': return compileCluster(m as Cluster, ROOT);
    case 'route': return compileRouteConfig(m as RouteConfiguration, ROOT);
    case 'endpoint': return compileEndpoints(m as ClusterLoadAssignment, ROOT, 'EDS endpoints need IP addresses');
  }
}

/** Compiles a resource already validated by the main thread (workers do this). */
export function compileValidated<K extends XdsKind>(kind: K, bytes: Uint8Array): CompiledOf[K] {
  return compile(kind, decodeResource(kind, bytes)) as CompiledOf[K];
}

/**
 * A registry that knows every `Any` type inside `messages` (at any depth, Any within Any
 * included), grown from `base`: xDS resources name their filter types only in the bytes.
 */
export async function registryCovering(messages: readonly (readonly [XdsKind, Message])[], base: Registry, known: Set<string>): Promise<Registry> {
  let registry = base;
  for (let round = 0; round < 8; round++) {
    const found = new Set<string>();
    for (const [kind, m] of messages) collectAnyTypes(m, SCHEMAS[kind], registry, found);
    const missing = [...found].filter((n) => !known.has(n));
    if (missing.length === 0) return registry;
    for (const n of missing) known.add(n);
    registry = await registryFor(known);
  }
  return registry;
}

function collectAnyTypes(m: Message, d: DescMessage, registry: Registry, out: Set<string>): void {
  if (d.typeName === 'google.protobuf.Any') {
    const any = m as Any;
    const name = any.typeUrl.slice(any.typeUrl.lastIndexOf('/') + 1);
    out.add(name);
    const inner = registry.getMessage(name);
    if (!inner) return;
    const unpacked = anyUnpack(any, registry);
    if (unpacked) collectAnyTypes(unpacked, inner, registry, out);
    return;
  }
  if (d.typeName.startsWith('google.protobuf.')) return;
  const rec = m as unknown as Record<string, unknown>;
  for (const f of d.fields) {
    let v: unknown;
    if (f.oneof) {
      const o = rec[f.oneof.localName] as { case?: string; value?: unknown } | undefined;
      v = o?.case === f.localName ? o.value : undefined;
    } else v = rec[f.localName];
    if (v === undefined || v === null) continue;
    if (f.fieldKind === 'message' && isMessage(v)) collectAnyTypes(v, f.message, registry, out);
    else if (f.fieldKind === 'list' && f.listKind === 'message') for (const item of v as Message[]) collectAnyTypes(item, f.message, registry, out);
    else if (f.fieldKind === 'map' && f.mapKind === 'message') for (const item of Object.values(v as Record<string, Message>)) collectAnyTypes(item, f.message, registry, out);
  }
}
