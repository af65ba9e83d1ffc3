/**
 * Active health checking of one cluster, run once per proxy instance in the supervisor thread
 * (Envoy's HealthCheckerImplBase): a session per host runs checks on its own timer, and writes
 * the verdict into the host's shared flags, where every worker's load balancer reads it.
 */
import type { ClusterHealth } from '../cluster-health.js';
import type { UpstreamHost } from '../host.js';
import { countHcPassed, F_HC_EXCLUDED, F_HC_PASSED, F_HC_TIMEOUT, F_OUTLIER_EJECTED, H_FLAGS, H_IMMEDIATE_FAILS } from '../host-state.js';
import type { OutlierDetector } from '../outlier/detector.js';
import type { HealthCheckSpec } from './config.js';
import { GrpcProbe } from './grpc-probe.js';
import { Http1Probe, Http2Probe } from './http-probe.js';
import { nextIntervalMs, withJitter } from './interval.js';
import type { Probe, ProbeResult, ProbeTarget } from './probe.js';
import type { HealthCheckStats } from './stats.js';
import type { UpstreamTransport } from '../../tls/upstream-transport.js';
import { TcpProbe } from './tcp-probe.js';
import { INITIAL_SESSION, onCheckFailure, onCheckSuccess, onPassiveFailure, type SessionState, type Step } from './transition.js';

/** The cluster as the checker sees it in the supervisor thread. */
export interface CheckedCluster {
  readonly hosts: readonly UpstreamHost[];
  readonly health: ClusterHealth;
  readonly outlier: OutlierDetector | undefined;
  /** How connections to a host are made (TLS or not). */
  transportFor?(host: UpstreamHost): UpstreamTransport;
}

export class HealthChecker {
  readonly #sessions = new Map<string, HealthCheckSession>();
  #closed = false;

  constructor(
    readonly spec: HealthCheckSpec,
    readonly cluster: CheckedCluster,
    readonly stats: HealthCheckStats,
    readonly random: () => number = Math.random,
  ) {}

  /** The cluster's hosts in this thread changed (or were first set): start and stop sessions. */
  setHosts(hosts: readonly UpstreamHost[]): void {
    if (this.#closed) return;
    const keys = new Set(hosts.map((h) => h.key));
    for (const [key, s] of this.#sessions) if (!keys.has(key)) { s.stop(); this.#sessions.delete(key); }
    for (const h of hosts) {
      if (this.#sessions.has(h.key)) continue;
      const s = new HealthCheckSession(h, this);
      this.#sessions.set(h.key, s);
      s.start();
    }
    this.refreshHealthyGauge();
  }

  /** Resolves once every current host has had its first result (Envoy's cluster warming). */
  checkedOnce(): Promise<void> {
    return Promise.all([...this.#sessions.values()].map((s) => s.firstResult)).then(() => undefined);
  }

  close(): void {
    this.#closed = true;
    for (const s of this.#sessions.values()) s.stop();
    this.#sessions.clear();
  }

  /** From the shared flags, which a worker may have changed since (an immediate failure). */
  refreshHealthyGauge(): void {
    this.stats.healthy.set(countHcPassed([...this.#sessions.values()].map((s) => s.host)));
  }
}

class HealthCheckSession {
  state: SessionState = INITIAL_SESSION;
  readonly firstResult: Promise<void>;
  #resolveFirst!: () => void;
  readonly #probe: Probe;
  #timer: NodeJS.Timeout | undefined;
  #timeout: NodeJS.Timeout | undefined;
  /** Identifies the check in flight; a result for another one (timed out, stopped) is dropped. */
  #seq = 0;
  #inFlight = false;
  #stopped = false;
  /** The host's immediate-failure count already folded into `state`. */
  #immediateFails = 0;

  constructor(readonly host: UpstreamHost, readonly checker: HealthChecker) {
    this.firstResult = new Promise((r) => { this.#resolveFirst = r; });
    const t = checker.cluster.transportFor?.(host);
    this.#probe = makeProbe(checker.spec, { address: host.address, port: checker.spec.altPort ?? host.port, ...(t?.tls ? { transport: t } : {}) });
  }

  start(): void {
    // A host (re)joining a checked cluster starts failed until its first check passes.
    Atomics.and(this.host.state, H_FLAGS, ~(F_HC_PASSED | F_HC_TIMEOUT | F_HC_EXCLUDED));
    this.#immediateFails = Atomics.load(this.host.state, H_IMMEDIATE_FAILS);
    const jitter = this.checker.spec.initialJitterMs;
    if (jitter === 0) this.#run();
    else this.#schedule(withJitter(0, jitter, 0, this.checker.random));
  }

  stop(): void {
    this.#stopped = true;
    this.#inFlight = false;
    clearTimeout(this.#timer);
    clearTimeout(this.#timeout);
    this.#probe.close();
    this.#resolveFirst();
  }

  #schedule(ms: number): void {
    this.#timer = setTimeout(this.#run, ms);
    this.#timer.unref();
  }

  #run = (): void => {
    if (this.#stopped) return;
    const { checker } = this;
    checker.stats.attempt.inc();
    const seq = ++this.#seq;
    this.#inFlight = true;
    this.#timeout = setTimeout(() => {
      if (seq !== this.#seq || !this.#inFlight) return;
      this.#probe.abort();
      this.#onResult(seq, { ok: false, type: 'network_timeout', retriable: false, detail: 'timeout' });
    }, checker.spec.timeoutMs);
    this.#timeout.unref();
    void this.#probe.check().then((r) => this.#onResult(seq, r));
  };

  #onResult(seq: number, r: ProbeResult): void {
    if (seq !== this.#seq || !this.#inFlight || this.#stopped) return;
    this.#inFlight = false;
    clearTimeout(this.#timeout);
    const { checker, host } = this;
    const { spec, stats, cluster } = checker;
    const before = Atomics.load(host.state, H_FLAGS);
    this.#foldImmediateFailures();
    const step = r.ok ? onCheckSuccess(this.state, spec) : onCheckFailure(this.state, r.type, r.retriable, spec);
    if (r.ok) stats.success.inc();
    else {
      stats.failure.inc();
      if (r.type !== 'active') stats.network_failure.inc();
    }
    this.#apply(step);
    if (!r.ok && r.excluded && !this.state.passed) Atomics.or(host.state, H_FLAGS, F_HC_EXCLUDED);
    // An immediate failure reported while this result was written still wins.
    if (this.#foldImmediateFailures()) this.#apply({ state: this.state, transition: step.transition });
    if (Atomics.load(host.state, H_FLAGS) !== before) cluster.health.changed(cluster.hosts);
    checker.refreshHealthyGauge();
    // Envoy's successful_active_health_check_uneject_host: a passing check ends an ejection.
    const outlier = cluster.outlier;
    if (r.ok && step.state.passed && outlier?.spec.successfulActiveHealthCheckUnejectHost && (host.flags & F_OUTLIER_EJECTED)) outlier.uneject(host);
    this.#resolveFirst();
    this.#schedule(nextIntervalMs(spec, r.ok, step.transition, cluster.health.trafficSeen, checker.random));
  }

  /**
   * Workers count each x-envoy-immediate-health-check-fail answer in the host's block (and fail
   * the host there at once); here each new one is a passive failure of the session, so that the
   * host needs healthy_threshold passing checks to return (Envoy's setUnhealthy(PASSIVE)).
   */
  #foldImmediateFailures(): boolean {
    const n = Atomics.load(this.host.state, H_IMMEDIATE_FAILS);
    if (n === this.#immediateFails) return false;
    this.#immediateFails = n;
    this.state = onPassiveFailure(this.state).state;
    return true;
  }

  /** Writes a step's verdict into the host's shared flags. */
  #apply(step: Step): void {
    const s = this.host.state;
    this.state = step.state;
    if (step.state.passed) {
      Atomics.or(s, H_FLAGS, F_HC_PASSED);
      // Passing again ends the exclusion (Envoy clears EXCLUDED_VIA_IMMEDIATE_HC_FAIL then).
      Atomics.and(s, H_FLAGS, ~F_HC_EXCLUDED);
    } else {
      Atomics.and(s, H_FLAGS, ~F_HC_PASSED);
    }
    if (step.state.timedOut) Atomics.or(s, H_FLAGS, F_HC_TIMEOUT);
    else Atomics.and(s, H_FLAGS, ~F_HC_TIMEOUT);
  }
}

function makeProbe(spec: HealthCheckSpec, target: ProbeTarget): Probe {
  const p = spec.probe;
  switch (p.kind) {
    case 'http': return p.http2 ? new Http2Probe(target, p, spec.reuseConnection) : new Http1Probe(target, p, spec.reuseConnection);
    case 'tcp': return new TcpProbe(target, p.send, p.receive, spec.reuseConnection);
    case 'grpc': return new GrpcProbe(target, p, spec.reuseConnection);
  }
}
