import type { CircuitBreakers } from '../../envoy/generated/envoy/config/cluster/v3/circuit_breaker_pb.js';
import { ConfigError } from '../../envoy/registry.js';
import type { Gauge, StatScope } from '../stats-scope.js';
import type { SharedSlots } from '../shared/slots.js';

export type Priority = 'default' | 'high';

/** One priority's thresholds, as configured (Envoy's defaults where unset). */
export interface ThresholdSpec {
  readonly maxConnections: number;
  readonly maxPendingRequests: number;
  readonly maxRequests: number;
  readonly maxRetries: number;
  readonly maxConnectionPools: number;
  /** retry_budget: retries allowed as a share of active + pending requests, with a floor. */
  readonly retryBudget: { readonly percent: number; readonly minConcurrency: number } | undefined;
  readonly trackRemaining: boolean;
}

export interface CircuitBreakerSpec { readonly default: ThresholdSpec; readonly high: ThresholdSpec }

const UNLIMITED = 0x7fff_ffff;

const DEFAULTS: ThresholdSpec = {
  maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3,
  maxConnectionPools: UNLIMITED, retryBudget: undefined, trackRemaining: false,
};

/** Validates `circuit_breakers` (pure). */
export function compileCircuitBreakers(cb: CircuitBreakers | undefined, path: string): CircuitBreakerSpec {
  const out: { default: ThresholdSpec; high: ThresholdSpec } = { default: DEFAULTS, high: DEFAULTS };
  if (!cb) return out;
  if (cb.perHostThresholds.length > 0) throw new ConfigError(`${path}.per_host_thresholds`, 'per-host circuit breakers are not supported');
  const seen = new Set<number>();
  cb.thresholds.forEach((t, i) => {
    const at = `${path}.thresholds[${i}]`;
    if (t.priority !== 0 && t.priority !== 1) throw new ConfigError(`${at}.priority`, `unknown priority ${t.priority}`);
    if (seen.has(t.priority)) throw new ConfigError(`${at}.priority`, `${t.priority === 0 ? 'DEFAULT' : 'HIGH'} is given twice`);
    seen.add(t.priority);
    let retryBudget: ThresholdSpec['retryBudget'];
    if (t.retryBudget) {
      const pct = t.retryBudget.budgetPercent?.value ?? 20;
      if (!(pct >= 0 && pct <= 100)) throw new ConfigError(`${at}.retry_budget.budget_percent.value`, `expected 0-100, got ${pct}`);
      retryBudget = { percent: pct, minConcurrency: t.retryBudget.minRetryConcurrency ?? 3 };
    }
    const spec: ThresholdSpec = {
      maxConnections: t.maxConnections ?? DEFAULTS.maxConnections,
      maxPendingRequests: t.maxPendingRequests ?? DEFAULTS.maxPendingRequests,
      maxRequests: t.maxRequests ?? DEFAULTS.maxRequests,
      maxRetries: t.maxRetries ?? DEFAULTS.maxRetries,
      maxConnectionPools: t.maxConnectionPools ?? UNLIMITED,
      retryBudget,
      trackRemaining: t.trackRemaining,
    };
    if (t.priority === 0) out.default = spec; else out.high = spec;
  });
  return out;
}

/**
 * One counted resource of a cluster (connections, pending requests, ...), shared by every
 * worker of the instance. `tryAcquire` takes a unit with a compare-and-swap, so workers racing
 * for the last unit cannot both win: the limit holds exactly across threads (Envoy's check and
 * increment are separate, and its limits may be passed by one per racing worker). Connections
 * still use `canCreate` then `inc`, because a pool with no connection may open one past the
 * limit anyway, as in Envoy.
 */
export class Resource {
  readonly #a: Int32Array;
  readonly #i: number;
  readonly #open: Gauge;
  readonly #remaining: Gauge | undefined;
  #max: () => number;

  constructor(a: Int32Array, i: number, max: number | (() => number), open: Gauge, remaining: Gauge | undefined) {
    this.#a = a;
    this.#i = i;
    this.#max = typeof max === 'number' ? () => max : max;
    this.#open = open;
    this.#remaining = remaining;
  }

  get count(): number { return Atomics.load(this.#a, this.#i); }
  get max(): number { return this.#max(); }

  canCreate(): boolean {
    return Atomics.load(this.#a, this.#i) < this.#max();
  }

  /** Takes one unit if one is left; the caller gives it back with `dec`. */
  tryAcquire(): boolean {
    const max = this.#max();
    for (;;) {
      const n = Atomics.load(this.#a, this.#i);
      if (n >= max) return false;
      if (Atomics.compareExchange(this.#a, this.#i, n, n + 1) === n) {
        this.#counted(n + 1, max);
        return true;
      }
    }
  }

  inc(): void {
    this.#counted(Atomics.add(this.#a, this.#i, 1) + 1, this.#max());
  }

  #counted(n: number, max: number): void {
    if (n === max) this.#open.set(1);
    this.#remaining?.set(Math.max(0, max - n));
  }

  dec(): void {
    const n = Atomics.sub(this.#a, this.#i, 1) - 1;
    if (n === this.#max() - 1) this.#open.set(0);
    this.#remaining?.set(Math.max(0, this.#max() - n));
  }
}

const CX = 0, PENDING = 1, RQ = 2, RETRY = 3, POOLS = 4;

/** A cluster's resources at one priority (Envoy's ResourceManager). */
export class ResourceManager {
  readonly connections: Resource;
  readonly pendingRequests: Resource;
  readonly requests: Resource;
  readonly retries: Resource;
  readonly connectionPools: Resource;

  constructor(t: ThresholdSpec, counts: Int32Array, scope: StatScope, priority: Priority) {
    const p = `circuit_breakers.${priority}.`;
    const remaining = (name: string): Gauge | undefined => (t.trackRemaining ? scope.gauge(`${p}remaining_${name}`) : undefined);
    const make = (i: number, max: number | (() => number), open: string, rem: string): Resource => {
      const r = new Resource(counts, i, max, scope.gauge(`${p}${open}`), remaining(rem));
      remaining(rem)?.set(Math.max(0, r.max - r.count));
      return r;
    };
    this.connections = make(CX, t.maxConnections, 'cx_open', 'cx');
    this.pendingRequests = make(PENDING, t.maxPendingRequests, 'rq_pending_open', 'pending');
    this.requests = make(RQ, t.maxRequests, 'rq_open', 'rq');
    const budget = t.retryBudget;
    // With a budget, the retry limit follows the load: a share of what is active and pending.
    const retryMax = budget
      ? () => Math.max(budget.minConcurrency, Math.floor((budget.percent / 100) * (this.requests.count + this.pendingRequests.count)))
      : t.maxRetries;
    this.retries = make(RETRY, retryMax, 'rq_retry_open', 'retries');
    this.connectionPools = make(POOLS, t.maxConnectionPools, 'cx_pool_open', 'cx_pools');
  }
}

/** Both priorities of a cluster, counting in the instance's shared slots. */
export function clusterResources(spec: CircuitBreakerSpec, cluster: string, slots: SharedSlots, scope: StatScope): Record<Priority, ResourceManager> {
  return {
    default: new ResourceManager(spec.default, slots.block(`cb|${cluster}|default`, 5), scope, 'default'),
    high: new ResourceManager(spec.high, slots.block(`cb|${cluster}|high`, 5), scope, 'high'),
  };
}
