import { onTypesNamed } from '../../envoy/type-registry.js';

/*
 * The network RBAC filter's code and descriptors (with the RBAC engine and the CEL descriptors
 * the RBAC protos import) are loaded when a config first names its type: config decoding
 * builds its registry with registryFor, which runs loadNetworkRbac first.
 */

export const NETWORK_RBAC = 'envoy.extensions.filters.network.rbac.v3.RBAC';
export const NETWORK_RBAC_TYPE_URL = `type.googleapis.com/${NETWORK_RBAC}`;

type NetworkRbacCode = typeof import('./rbac.js');
let code: NetworkRbacCode | undefined;

/** Loads the network RBAC filter if `typeNames` has its type. */
export async function loadNetworkRbac(typeNames: Iterable<string>): Promise<void> {
  if (!code && new Set(typeNames).has(NETWORK_RBAC)) code = await import('./rbac.js');
}

onTypesNamed(loadNetworkRbac);

/** The network RBAC filter's code; only for a config whose filter type loadNetworkRbac has seen. */
export function networkRbacCode(): NetworkRbacCode {
  if (!code) throw new Error('network RBAC used before loadNetworkRbac loaded it');
  return code;
}
