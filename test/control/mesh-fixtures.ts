import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { toJson, type JsonValue } from '@bufbuild/protobuf';
import type { ConfigSnapshot, MeshResource } from '../../src/control/config/kinds.js';
import type { ProxyIdentity } from '../../src/envoy/node-metadata.js';
import type { ProxyResources } from '../../src/control/translate/types.js';
import type { MeshSnapshot } from '../../src/control/registry/model.js';
import { buildMesh } from '../../src/control/registry/mesh.js';
import { repoRoot } from '../support/proxy.js';
import { ListenerSchema } from '../../src/envoy/generated/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../../src/envoy/generated/envoy/config/route/v3/route_pb.js';
import { ClusterSchema } from '../../src/envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../src/envoy/generated/envoy/config/endpoint/v3/endpoint_pb.js';
import { envoyRegistry } from '../../src/envoy/full-registry.js';

/**
 * Mesh config for tests from multi-document YAML, grouped by kind. No validation: the config
 * package validates; these fixtures are written valid. A resource's creationTimestamp defaults
 * to its position, so "oldest wins" follows the file order.
 */
export function configOf(yamlText: string, version = 1): ConfigSnapshot {
  const docs = parseAllDocuments(yamlText).map((d) => d.toJS() as MeshResource | null).filter((d): d is MeshResource => d !== null);
  const out = { serviceEntries: [], workloadEntries: [], workloadGroups: [], destinationRules: [], virtualServices: [], peerAuthentications: [], authorizationPolicies: [], requestAuthentications: [] } as {
    serviceEntries: MeshResource[]; workloadEntries: MeshResource[]; workloadGroups: MeshResource[]; destinationRules: MeshResource[]; virtualServices: MeshResource[];
    peerAuthentications: MeshResource[]; authorizationPolicies: MeshResource[]; requestAuthentications: MeshResource[];
  };
  let mesh = {};
  docs.forEach((d, i) => {
    d.metadata.namespace ??= 'default';
    d.metadata.creationTimestamp ??= `2026-01-01T00:00:${String(i).padStart(2, '0')}Z`;
    switch (d.kind) {
      case 'ServiceEntry': out.serviceEntries.push(d); break;
      case 'WorkloadEntry': out.workloadEntries.push(d); break;
      case 'WorkloadGroup': out.workloadGroups.push(d); break;
      case 'DestinationRule': out.destinationRules.push(d); break;
      case 'VirtualService': out.virtualServices.push(d); break;
      case 'PeerAuthentication': out.peerAuthentications.push(d); break;
      case 'AuthorizationPolicy': out.authorizationPolicies.push(d); break;
      case 'RequestAuthentication': out.requestAuthentications.push(d); break;
      case 'MeshConfig': mesh = d.spec; break;
      default: throw new Error(`unknown kind ${(d as { kind: string }).kind}`);
    }
  });
  return { ...(out as unknown as Omit<ConfigSnapshot, 'mesh' | 'version'>), mesh, version };
}

/** A sidecar identity with defaults for what a test does not care about. */
export function identity(p: Partial<ProxyIdentity> & { name: string }): ProxyIdentity {
  const namespace = p.namespace ?? 'default';
  const ip = p.ips?.[0] ?? '127.0.0.1';
  return {
    id: p.id ?? `sidecar~${ip}~${p.name}.${namespace}~${namespace}.svc.cluster.local`,
    namespace,
    labels: {},
    serviceAccount: 'default',
    ips: [ip],
    generator: 'sidecar',
    appPorts: [],
    ...p,
  };
}

/** Resources as proto3 JSON, one array per type, in generate's order. */
export function resourcesJson(r: ProxyResources): Record<string, JsonValue[]> {
  const opts = { registry: envoyRegistry, useProtoFieldName: true } as const;
  return {
    listeners: r.listeners.map((m) => toJson(ListenerSchema, m, opts)),
    routes: r.routes.map((m) => toJson(RouteConfigurationSchema, m, opts)),
    clusters: r.clusters.map((m) => toJson(ClusterSchema, m, opts)),
    endpoints: r.endpoints.map((m) => toJson(ClusterLoadAssignmentSchema, m, opts)),
  };
}

/** A golden case's input as generate takes it: the mesh (proxy.json and connected.json connected) and the proxy. */
export function goldenCase(dir: string): { mesh: MeshSnapshot; proxy: ProxyIdentity } {
  const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
  const proxy = identity(JSON.parse(read('proxy.json')) as Partial<ProxyIdentity> & { name: string });
  const others = existsSync(join(dir, 'connected.json'))
    ? (JSON.parse(read('connected.json')) as (Partial<ProxyIdentity> & { name: string })[]).map(identity)
    : [];
  return { mesh: buildMesh(configOf(read('input.yaml')), [proxy, ...others]), proxy };
}

export const GOLDEN_DIR = join(repoRoot(), 'test/control/translate/golden');
