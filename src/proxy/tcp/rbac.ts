import type net from 'node:net';
import type { Any } from '@bufbuild/protobuf/wkt';
import type { RBAC } from '../../envoy/generated/envoy/extensions/filters/network/rbac/v3/rbac_pb.js';
import { RBAC_EnforcementType, RBACSchema } from '../../envoy/generated/envoy/extensions/filters/network/rbac/v3/rbac_pb.js';
import { ConfigError, unpackAs } from '../../envoy/registry.js';
import type { ConnectionInfo } from '../http/conn-manager/connection-info.js';
import type { StatScopes } from '../stat-scopes.js';
import { compileRbacEngines, type RbacEngines } from '../rbac/filter-config.js';
import type { RbacInput } from '../rbac/input.js';
import { rbacStats, type RbacStats } from '../rbac/stats.js';

/** An `envoy.filters.network.rbac`, compiled. */
export interface NetworkRbacConfig extends RbacEngines {
  readonly statPrefix: string;
  readonly shadowRulesStatPrefix: string;
}

export function compileNetworkRbac(c: RBAC, path: string): NetworkRbacConfig {
  if (!c.statPrefix) throw new ConfigError(`${path}.stat_prefix`, 'must not be empty');
  if (c.enforcementType !== RBAC_EnforcementType.ONE_TIME_ON_FIRST_BYTE && c.enforcementType !== RBAC_EnforcementType.CONTINUOUS) {
    throw new ConfigError(`${path}.enforcement_type`, `unknown value ${c.enforcementType}`);
  }
  return { ...compileRbacEngines(c, path), statPrefix: c.statPrefix, shadowRulesStatPrefix: c.shadowRulesStatPrefix };
}

/** A filter's typed_config (at `path`) holding an envoy.extensions.filters.network.rbac.v3.RBAC, compiled. */
export function compileNetworkRbacAny(any: Any, path: string): NetworkRbacConfig {
  return compileNetworkRbac(unpackAs(any, RBACSchema, path), path);
}

const NO_METADATA = (): undefined => undefined;

/**
 * Envoy's network RBAC filter on one filter chain in one thread, stats under
 * `<stat_prefix>.rbac.`. Everything its rules can read of a connection (addresses, ports, SNI,
 * the TLS peer) is known when the connection is accepted, so tsmesh decides then rather than on
 * the first byte: a denied connection is closed before any byte reaches the upstream, also for
 * protocols where the server speaks first. ONE_TIME_ON_FIRST_BYTE and CONTINUOUS therefore
 * decide the same (nothing the rules read changes during a connection).
 */
export class NetworkRbacFilter {
  readonly #stats: RbacStats;
  constructor(readonly cfg: NetworkRbacConfig, scopes: StatScopes) {
    this.#stats = rbacStats(scopes.root(cfg.statPrefix), '', cfg.shadowRulesStatPrefix);
  }

  /** Whether the connection may go on to the next filter; when not, it is already closed. */
  onNewConnection(socket: net.Socket, info: ConnectionInfo): boolean {
    const input: RbacInput = { conn: info, remoteAddress: info.remoteAddress, request: undefined, metadata: NO_METADATA };
    const { shadow, rules } = this.cfg;
    if (shadow) (shadow.evaluate(input).allowed ? this.#stats.shadow_allowed : this.#stats.shadow_denied).inc();
    if (!rules) return true;
    const d = rules.evaluate(input);
    if (rules.action === 'LOG') (d.policy !== undefined ? this.#stats.logged : this.#stats.not_logged).inc();
    if (d.allowed) { this.#stats.allowed.inc(); return true; }
    this.#stats.denied.inc();
    socket.destroy();
    return false;
  }
}
