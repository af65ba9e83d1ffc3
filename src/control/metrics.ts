import type { XdsCounters } from './xds/counters.js';

/**
 * The control plane's /metrics in Prometheus text format. Where istiod has a metric for the same
 * thing it keeps istiod's name, so dashboards built for Pilot read it; the rest are tsmesh_*.
 */
export function renderControlMetrics(server: { readonly counters: XdsCounters; readonly connectedClients: number }): string {
  const c = server.counters;
  const rows: [name: string, type: 'counter' | 'gauge', help: string, value: number][] = [
    ['pilot_xds', 'gauge', 'Connected xDS clients.', server.connectedClients],
    ['pilot_total_xds_rejects', 'counter', 'xDS responses the clients rejected (NACK).', c.nacks],
    ['pilot_total_xds_internal_errors', 'counter', 'Translations that failed; the affected proxies kept their last good config.', c.generateErrors],
    ['pilot_push_triggers', 'counter', 'Changes that asked for a push, before debouncing.', c.pushRequests],
    ['tsmesh_xds_pushes_total', 'counter', 'Pushes run after debouncing.', c.pushes],
    ['tsmesh_xds_responses_total', 'counter', 'Discovery responses sent (SotW and Delta).', c.responses],
    ['tsmesh_xds_response_bytes_total', 'counter', 'Bytes of discovery responses sent.', c.responseBytes],
    ['tsmesh_xds_acks_total', 'counter', 'Responses the clients accepted (ACK).', c.acks],
    ['tsmesh_xds_generates_total', 'counter', 'Translations run (once per proxy shape per push).', c.generates],
    ['tsmesh_xds_connects_total', 'counter', 'xDS streams opened.', c.connects],
    ['tsmesh_xds_disconnects_total', 'counter', 'xDS streams closed.', c.disconnects],
  ];
  return rows.map(([name, type, help, value]) => `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${value}\n`).join('');
}
