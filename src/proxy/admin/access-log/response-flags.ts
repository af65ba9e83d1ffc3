/**
 * Envoy's response flags (%RESPONSE_FLAGS%,
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage#config-access-log-format-response-flags)
 * as a bitset. Bit i is Envoy's flag i (envoy/stream_info/stream_info.h), so printing bits from
 * low to high gives Envoy's order: `UH,URX`, never `URX,UH`.
 */
const FLAGS = [
  ['LH', 'FailedLocalHealthCheck'],
  ['UH', 'NoHealthyUpstream'],
  ['UT', 'UpstreamRequestTimeout'],
  ['LR', 'LocalReset'],
  ['UR', 'UpstreamRemoteReset'],
  ['UF', 'UpstreamConnectionFailure'],
  ['UC', 'UpstreamConnectionTermination'],
  ['UO', 'UpstreamOverflow'],
  ['NR', 'NoRouteFound'],
  ['DI', 'DelayInjected'],
  ['FI', 'FaultInjected'],
  ['RL', 'RateLimited'],
  ['UAEX', 'UnauthorizedExternalService'],
  ['RLSE', 'RateLimitServiceError'],
  ['DC', 'DownstreamConnectionTermination'],
  ['URX', 'UpstreamRetryLimitExceeded'],
  ['SI', 'StreamIdleTimeout'],
  ['IH', 'InvalidEnvoyRequestHeaders'],
  ['DPE', 'DownstreamProtocolError'],
  ['UMSDR', 'UpstreamMaxStreamDurationReached'],
  ['RFCF', 'ResponseFromCacheFilter'],
  ['NFCF', 'NoFilterConfigFound'],
  ['DT', 'DurationTimeout'],
  ['UPE', 'UpstreamProtocolError'],
  ['NC', 'NoClusterFound'],
  ['OM', 'OverloadManagerTerminated'],
  ['DF', 'DnsResolutionFailed'],
  ['DO', 'DropOverload'],
  ['DR', 'DownstreamRemoteReset'],
] as const;

export type ResponseFlagName = (typeof FLAGS)[number][0];

/** `flags |= ResponseFlag.UH`. */
export const ResponseFlag = Object.freeze(
  Object.fromEntries(FLAGS.map(([short], i) => [short, 1 << i])) as Record<ResponseFlagName, number>,
);

/** Envoy's short names in print order. */
export const RESPONSE_FLAG_NAMES: readonly ResponseFlagName[] = FLAGS.map(([s]) => s);

const shortCache = new Map<number, string>();
const longCache = new Map<number, string>();

/** %RESPONSE_FLAGS%: short names comma-separated in Envoy's order; `-` when none. */
export function responseFlagsToString(flags: number): string {
  return render(flags, 0, shortCache);
}

/** %RESPONSE_FLAGS_LONG%: long (PascalCase) names comma-separated in Envoy's order; `-` when none. */
export function responseFlagsToLongString(flags: number): string {
  return render(flags, 1, longCache);
}

/** The bit of a short name (`UH`), for filters and config; undefined when unknown. */
export function responseFlagBit(short: string): number | undefined {
  return (ResponseFlag as Record<string, number | undefined>)[short];
}

function render(flags: number, which: 0 | 1, cache: Map<number, string>): string {
  if (flags === 0) return '-';
  let s = cache.get(flags);
  if (s !== undefined) return s;
  const parts: string[] = [];
  for (let i = 0; i < FLAGS.length; i++) if (flags & (1 << i)) parts.push(FLAGS[i]![which]);
  s = parts.length ? parts.join(',') : '-';
  if (cache.size < 4096) cache.set(flags, s);
  return s;
}
