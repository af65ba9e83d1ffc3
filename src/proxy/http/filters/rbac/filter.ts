import type { JsonObject } from '@bufbuild/protobuf';
import type { RequestHeaders } from '../../stream.js';
import type { ConnectionInfo } from '../../conn-manager/connection-info.js';
import type { RouteRequest } from '../../route/request.js';
import type { FilterRuntimeContext, HttpFilterCallbacks, HttpFilterFactory, HttpStreamFilter } from '../types.js';
import type { RbacInput } from '../../../rbac/input.js';
import type { RbacEngines } from '../../../rbac/filter-config.js';
import { deniedDetails, rbacStats, type RbacStats } from '../../../rbac/stats.js';
import type { HttpRbacConfig } from './config.js';

const RBAC_NS = 'envoy.filters.http.rbac';
const COMMON_NS = 'envoy.common';

/** The RBAC filter of one connection manager in one thread: its stats under `http.<prefix>.rbac.`. */
export class HttpRbacFactory implements HttpFilterFactory {
  readonly stats: RbacStats;
  constructor(readonly name: string, readonly config: HttpRbacConfig, ctx: FilterRuntimeContext) {
    this.stats = rbacStats(ctx.httpScope, config.rulesStatPrefix, config.shadowRulesStatPrefix);
  }

  create(cb: HttpFilterCallbacks): HttpStreamFilter {
    return new HttpRbacFilter(this, cb);
  }
}

/**
 * Envoy's HTTP RBAC filter on one stream: the shadow rules are evaluated and counted (and their
 * result left in dynamic metadata), then the enforced rules decide; a denied request gets 403
 * `RBAC: access denied`. The stream filter is itself the engines' input, so a request allocates
 * nothing more.
 */
class HttpRbacFilter implements HttpStreamFilter, RbacInput {
  request: RouteRequest | undefined;
  constructor(readonly f: HttpRbacFactory, readonly cb: HttpFilterCallbacks) {}

  get conn(): ConnectionInfo { return this.cb.conn; }
  get remoteAddress(): string { return this.cb.downstreamAddress; }
  metadata(namespace: string): JsonObject | undefined { return this.cb.dynamicMetadata(namespace); }

  decodeHeaders(req: RequestHeaders): 'continue' | 'stop' {
    this.request = req;
    const engines = this.cb.perRouteConfig<RbacEngines>() ?? this.f.config;
    const stats = this.f.stats;
    const shadow = engines.shadow;
    if (shadow) {
      const d = shadow.evaluate(this);
      (d.allowed ? stats.shadow_allowed : stats.shadow_denied).inc();
      const p = this.f.config.shadowRulesStatPrefix;
      const md: JsonObject = { [`${p}shadow_engine_result`]: d.allowed ? 'allowed' : 'denied' };
      if (d.policy !== undefined) md[`${p}shadow_effective_policy_id`] = d.policy;
      this.cb.setDynamicMetadata(RBAC_NS, md);
    }
    const rules = engines.rules;
    if (!rules) return 'continue';
    const d = rules.evaluate(this);
    if (rules.action === 'LOG') {
      (d.policy !== undefined ? stats.logged : stats.not_logged).inc();
      this.cb.setDynamicMetadata(COMMON_NS, { access_log_hint: d.policy !== undefined });
    }
    if (d.allowed) { stats.allowed.inc(); return 'continue'; }
    stats.denied.inc();
    this.cb.sendLocalReply(403, 'RBAC: access denied', deniedDetails(d.policy));
    return 'stop';
  }
}
