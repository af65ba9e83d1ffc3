import net from 'node:net';
import type { Cluster } from '../../envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { Cluster_LbPolicy } from '../../envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { durationMs } from '../../envoy/duration.js';
import { ConfigError } from '../../envoy/registry.js';

/**
 * ORIGINAL_DST clusters (Istio's PassthroughCluster): no configured endpoints; each request or
 * connection goes to the address it was originally sent to, taken from the
 * `x-envoy-original-dst-host` header when `use_http_header` is set, else from the downstream
 * connection's original destination (SO_ORIGINAL_DST under traffic capture). Pure.
 */
export interface OriginalDstSpec {
  readonly useHttpHeader: boolean;
  /** Lower-case. */
  readonly headerName: string;
  readonly portOverride: number | undefined;
  /** cleanup_interval: hosts unused for this long are forgotten (Envoy's default 5 s). */
  readonly cleanupMs: number;
}

export interface SocketTarget { readonly address: string; readonly port: number }

export function compileOriginalDst(c: Cluster, path: string): OriginalDstSpec {
  if (c.lbPolicy !== Cluster_LbPolicy.CLUSTER_PROVIDED) throw new ConfigError(`${path}.lb_policy`, 'an ORIGINAL_DST cluster needs lb_policy CLUSTER_PROVIDED');
  if (c.loadAssignment && c.loadAssignment.endpoints.length > 0) throw new ConfigError(`${path}.load_assignment`, 'an ORIGINAL_DST cluster has no configured endpoints');
  const o = c.lbConfig.case === 'originalDstLbConfig' ? c.lbConfig.value : undefined;
  if (c.lbConfig.case && !o) throw new ConfigError(`${path}.lb_config`, 'only original_dst_lb_config applies to an ORIGINAL_DST cluster');
  if (o?.metadataKey) throw new ConfigError(`${path}.original_dst_lb_config.metadata_key`, 'not supported by tsmesh');
  const port = o?.upstreamPortOverride;
  if (port !== undefined && (port < 1 || port > 65535)) throw new ConfigError(`${path}.original_dst_lb_config.upstream_port_override`, `expected 1-65535, got ${port}`);
  const cleanupMs = durationMs(c.cleanupInterval) ?? 5000;
  if (cleanupMs <= 0) throw new ConfigError(`${path}.cleanup_interval`, 'must be > 0');
  return { useHttpHeader: o?.useHttpHeader ?? false, headerName: (o?.httpHeaderName || 'x-envoy-original-dst-host').toLowerCase(), portOverride: port, cleanupMs };
}

/** Where a request or connection goes; undefined when it has no usable original destination. */
export function originalDstTarget(spec: OriginalDstSpec, headers: { get(name: string): string | undefined } | undefined, connectionDst: SocketTarget | undefined): SocketTarget | undefined {
  let t: SocketTarget | undefined;
  if (spec.useHttpHeader && headers) {
    const v = headers.get(spec.headerName);
    if (v !== undefined) t = parseHostPort(v.trim());
  }
  t ??= connectionDst;
  if (!t) return undefined;
  return spec.portOverride !== undefined ? { address: t.address, port: spec.portOverride } : t;
}

/** `1.2.3.4:80` or `[::1]:80`: an IP literal with a port, nothing else (a name would need DNS). */
export function parseHostPort(s: string): SocketTarget | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(s);
  if (!m) return undefined;
  const address = m[1] ?? m[2]!;
  const port = Number(m[3]);
  if (net.isIP(address) === 0 || (m[1] !== undefined && net.isIP(address) !== 6) || port < 1 || port > 65535) return undefined;
  return { address, port };
}
