/**
 * Bootstrap pieces for tests with several clusters and hosts (health checks, outlier
 * detection), and bounded polling for state that settles asynchronously.
 */
import { readFileSync } from 'node:fs';
import { httpListenerHead, ROUTER_FILTER } from './proxy.js';

/** One HTTP listener; `routes` maps a path prefix to a cluster (first match wins). */
export function meshBootstrap(o: { listenPort: number; routes: readonly (readonly [string, string, string?])[]; clusters: readonly string[]; hcmExtra?: string }): string {
  const routes = o.routes.map(([prefix, cluster, extra]) => `
              - match: { prefix: "${prefix}" }
                route: { cluster: ${cluster}${extra ? `, ${extra}` : ''} }`).join('');
  return `${httpListenerHead(o.listenPort, o.hcmExtra)}
          route_config:
            name: local
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:${routes}
${ROUTER_FILTER}
  clusters:${o.clusters.join('')}
`;
}

/**
 * A STATIC cluster over loopback ports. `extra` is YAML at the cluster's level (4 spaces),
 * one setting per line, e.g. `outlier_detection: { consecutive_5xx: 5 }`.
 */
export function staticCluster(name: string, ports: readonly number[], extra = ''): string {
  const eps = ports.map((p) => `
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${p} } } }`).join('');
  const more = extra.split('\n').filter((l) => l.trim()).map((l) => `    ${l.trim()}`).join('\n');
  return `
  - name: ${name}
    connect_timeout: 1s
    type: STATIC
${more}
    load_assignment:
      cluster_name: ${name}
      endpoints:
      - lb_endpoints:${eps}`;
}

/** Calls `probe` until it returns a value other than undefined, at most `timeoutMs`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The `health_flags` value /clusters shows for `cluster`'s host on `port`. */
export function healthFlags(clustersText: string, cluster: string, port: number): string | undefined {
  const line = clustersText.split('\n').find((l) => l.startsWith(`${cluster}::127.0.0.1:${port}::health_flags::`));
  return line?.split('::')[3];
}

/** The value of one stat in /stats text output, or undefined if it is not there. */
export function statValue(statsText: string, name: string): number | undefined {
  const line = statsText.split('\n').find((l) => l.startsWith(`${name}: `));
  return line === undefined ? undefined : Number(line.slice(name.length + 2));
}

/** The last access-log line starting with `prefix`, once the file has it. */
export async function accessLogLine(file: string, prefix: string): Promise<string> {
  return eventually(`an access log line for ${prefix}`, () => {
    let text = '';
    try { text = readFileSync(file, 'utf8'); } catch { return undefined; }
    return text.split('\n').reverse().find((l) => l.startsWith(prefix));
  }, 5000, 50);
}
