import {
  FractionalPercent_DenominatorType as Denominator, type FractionalPercent,
} from '../../../envoy/generated/envoy/type/v3/percent_pb.js';
import type { RouteAction_RequestMirrorPolicy } from '../../../envoy/generated/envoy/config/route/v3/route_components_pb.js';
import { ConfigError } from '../../../envoy/registry.js';

/** A request_mirror_policies entry, compiled. */
export interface MirrorPolicySpec {
  readonly cluster: string;
  /** Share of requests mirrored, in [0, 1]. */
  readonly fraction: number;
  /** Append `-shadow` to the host (Envoy's default). */
  readonly appendShadowSuffix: boolean;
}

/** A FractionalPercent as a share in [0, 1] (numerator over its denominator, capped at 1). */
export function fractionOf(p: FractionalPercent | undefined, path: string): number {
  if (!p) return 1;
  const den = p.denominator === Denominator.HUNDRED ? 100 : p.denominator === Denominator.TEN_THOUSAND ? 10_000 : p.denominator === Denominator.MILLION ? 1_000_000 : undefined;
  if (den === undefined) throw new ConfigError(`${path}.denominator`, `unknown denominator ${p.denominator}`);
  return Math.min(1, p.numerator / den);
}

/**
 * Compiles mirror policies. `runtime_fraction` takes its `default_value`: tsmesh has no runtime
 * layer, which is what Envoy does when the runtime key is not set.
 */
export function compileMirrorPolicies(list: readonly RouteAction_RequestMirrorPolicy[], path: string): MirrorPolicySpec[] {
  return list.map((m, i) => {
    const at = `${path}[${i}]`;
    if (m.clusterHeader) throw new ConfigError(`${at}.cluster_header`, 'not supported: name the cluster');
    if (!m.cluster) throw new ConfigError(`${at}.cluster`, 'required');
    if (m.traceSampled !== undefined) throw new ConfigError(`${at}.trace_sampled`, 'not supported (no tracing yet)');
    return {
      cluster: m.cluster,
      fraction: fractionOf(m.runtimeFraction?.defaultValue, `${at}.runtime_fraction.default_value`),
      appendShadowSuffix: !m.disableShadowHostSuffixAppend,
    };
  });
}

/** Envoy's shadow host: `-shadow` appended to the host name, before any port. */
export function shadowAuthority(authority: string): string {
  // An IPv6 literal's colons are inside brackets; the port colon is after the last `]`.
  const close = authority.lastIndexOf(']');
  const colon = authority.indexOf(':', close + 1);
  return colon < 0 ? `${authority}-shadow` : `${authority.slice(0, colon)}-shadow${authority.slice(colon)}`;
}
