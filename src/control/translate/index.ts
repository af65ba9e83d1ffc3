import type { MeshSnapshot } from '../registry/model.js';
import type { ProxyIdentity } from '../../envoy/node-metadata.js';
import { grpcResources } from './grpc.js';
import { indexOf } from './mesh-index.js';
import { sidecarResources } from './sidecar.js';
import { shapeKeyOf } from './shape.js';
import type { ProxyResources, ResourceScope } from './types.js';

export type { ProxyResources, ResourceScope } from './types.js';
export { scopeOfChanges } from './scope.js';
export { TYPE_URL } from './types.js';
export { TranslationError } from './errors.js';

/**
 * Every Envoy resource `proxy` should have, from the mesh. Pure: no I/O, no clock; the same
 * mesh and the same shapeKey(proxy) give equal output, so it can be computed once per shape.
 * Expects validated config; a value it still cannot translate (a malformed duration) throws a
 * TranslationError naming the resource and field, never a half-built result. The returned
 * messages share constant sub-messages with each other and with later calls: serialize them,
 * never mutate them (clone first). With scope `routing`, clusters and endpoints may come back
 * empty (a sidecar's do; they are what a full call gives for the same mesh minus its
 * VirtualServices, see scopeOfChange).
 */
export function generate(mesh: MeshSnapshot, proxy: ProxyIdentity, scope: ResourceScope = 'all'): ProxyResources {
  const index = indexOf(mesh);
  return proxy.generator === 'grpc' ? grpcResources(index, proxy) : sidecarResources(index, proxy, scope);
}

/**
 * What generate's output depends on in a proxy's identity (see shapeKeyOf): generator,
 * namespace, labels (for sourceLabels, DestinationRule workloadSelector, WorkloadGroups) and
 * ports. Not the id, name, IPs or service account, so identical replicas share one computation.
 * With `mesh`, only the labels that one of its selectors reads count.
 */
export function shapeKey(proxy: ProxyIdentity, mesh?: MeshSnapshot): string {
  return shapeKeyOf(proxy, mesh?.config);
}
