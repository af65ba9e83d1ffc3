import type { ProxyIdentity } from '../../envoy/node-metadata.js';
import type { ProxyResources, ResourceScope } from '../translate/types.js';

/**
 * Where the ADS server gets each proxy's resources. The server calls it on connect and on every
 * push; it never mutates what it gets back.
 */
export interface ResourceSource {
  /**
   * Every resource `proxy` should have now. Should be pure (no I/O); may throw, in which case the
   * proxies of that shape keep their last good resources and the error is kept in the server's
   * `lastPushError`. With scope `routing` (a push(reason, 'routing')), only listeners and routes
   * must be current: the server keeps the shape's previous clusters and endpoints and ignores
   * any returned.
   */
  generate(proxy: ProxyIdentity, scope?: ResourceScope): ProxyResources;
  /**
   * Proxies with equal keys get identical resources: `generate` runs once per distinct key per
   * push and its serialized result is shared. A key that ignores a difference that matters gives
   * proxies each other's config, so when in doubt include more (e.g. namespace, labels, ports).
   */
  shapeKey(proxy: ProxyIdentity): string;
}
