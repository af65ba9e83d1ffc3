import type { XdsCounters } from './xds/counters.js';

/** Istio's buckets for pilot_proxy_convergence_time (seconds). */
export const CONVERGENCE_BUCKETS: readonly number[] = [0.1, 0.5, 1, 3, 5, 10, 20, 30];

/** A Prometheus histogram in memory: counts per bucket (not cumulative), sum and count. */
export class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }
  observe(v: number): void {
    let i = 0;
    while (i < this.bounds.length && v > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
}

/** Istio's event label of a config change. */
const EVENT = { created: 'add', updated: 'update', deleted: 'delete' } as const;

/**
 * The control plane's own metrics beyond the ADS server's counters: config events, proxy
 * convergence, and families other parts add (the CA's citadel_* counters) through add().
 */
export class ControlMetrics {
  readonly #configEvents = new Map<string, number>();
  readonly convergence = new Histogram(CONVERGENCE_BUCKETS);
  readonly #extra: (() => string)[] = [];

  /** A stored resource of `kind` was created, updated or deleted. */
  configEvent(kind: string, type: keyof typeof EVENT): void {
    const k = `${kind}\n${EVENT[type]}`;
    this.#configEvents.set(k, (this.#configEvents.get(k) ?? 0) + 1);
  }

  /** Adds metric families (complete Prometheus text: HELP, TYPE and samples) to /metrics. */
  add(render: () => string): void {
    this.#extra.push(render);
  }

  /** pilot_k8s_cfg_events{type, event}: Istio's name, with the mesh config kinds as types. */
  renderConfigEvents(): string {
    let out = '# HELP pilot_k8s_cfg_events Events from the config store (tsmesh apply/delete and the config dir), by kind and event.\n# TYPE pilot_k8s_cfg_events counter\n';
    for (const [k, n] of [...this.#configEvents].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const [kind, event] = k.split('\n') as [string, string];
      out += `pilot_k8s_cfg_events{type="${escape(kind)}",event="${event}"} ${n}\n`;
    }
    return out;
  }

  renderConvergence(): string {
    const h = this.convergence;
    let out = '# HELP pilot_proxy_convergence_time Seconds from the start of a push until the proxy has ACKed everything the push sent it.\n# TYPE pilot_proxy_convergence_time histogram\n';
    let cumulative = 0;
    h.bounds.forEach((b, i) => { cumulative += h.counts[i]!; out += `pilot_proxy_convergence_time_bucket{le="${b}"} ${cumulative}\n`; });
    out += `pilot_proxy_convergence_time_bucket{le="+Inf"} ${h.count}\npilot_proxy_convergence_time_sum ${h.sum}\npilot_proxy_convergence_time_count ${h.count}\n`;
    return out;
  }

  renderExtra(): string {
    return this.#extra.map((r) => r()).join('');
  }
}

function escape(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/**
 * The control plane's /metrics in Prometheus text format. Where istiod has a metric for the same
 * thing it keeps istiod's name, so dashboards built for Pilot read it; the rest are tsmesh_*.
 */
export function renderControlMetrics(server: { readonly counters: XdsCounters; readonly connectedClients: number }, metrics?: ControlMetrics): string {
  const c = server.counters;
  const rows: [name: string, type: 'counter' | 'gauge', help: string, value: number][] = [
    ['pilot_xds', 'gauge', 'Connected xDS clients.', server.connectedClients],
    ['pilot_total_xds_internal_errors', 'counter', 'Translations that failed; the affected proxies kept their last good config.', c.generateErrors],
    ['pilot_push_triggers', 'counter', 'Changes that asked for a push, before debouncing.', c.pushRequests],
    ['tsmesh_xds_pushes_total', 'counter', 'Pushes run after debouncing.', c.pushes],
    ['tsmesh_xds_responses_total', 'counter', 'Discovery responses sent (SotW and Delta).', c.responses],
    ['tsmesh_xds_response_bytes_total', 'counter', 'Bytes of discovery responses sent.', c.responseBytes],
    ['tsmesh_xds_acks_total', 'counter', 'Responses the clients accepted (ACK).', c.acks],
    ['tsmesh_xds_nacks_total', 'counter', 'Responses the clients rejected (NACK), all types.', c.nacks],
    ['tsmesh_xds_generates_total', 'counter', 'Translations run (once per proxy shape per push).', c.generates],
    ['tsmesh_xds_connects_total', 'counter', 'xDS streams opened.', c.connects],
    ['tsmesh_xds_disconnects_total', 'counter', 'xDS streams closed.', c.disconnects],
  ];
  let out = rows.map(([name, type, help, value]) => `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${value}\n`).join('');
  out += byType('pilot_xds_pushes', 'Responses sent by pushes, by xDS type.', c.pushesByType);
  out += byType('pilot_total_xds_rejects', 'xDS responses the clients rejected (NACK), by xDS type.', c.nacksByType);
  if (metrics) out += metrics.renderConvergence() + metrics.renderConfigEvents() + metrics.renderExtra();
  return out;
}

function byType(name: string, help: string, counts: Readonly<Record<string, number>>): string {
  let out = `# HELP ${name} ${help}\n# TYPE ${name} counter\n`;
  for (const t of Object.keys(counts).sort()) out += `${name}{type="${escape(t)}"} ${counts[t]}\n`;
  return out;
}
