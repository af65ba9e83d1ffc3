/**
 * Envoy's response flags (short form, as access logs and Istio's `response_flags` label carry
 * them) in words, so a 503 on the dashboard says why.
 */
export const RESPONSE_FLAGS: Readonly<Record<string, string>> = {
  UH: 'no healthy upstream host in the cluster',
  UF: 'could not connect to the upstream',
  UO: 'upstream overflow: a circuit breaker was open',
  NR: 'no route matched the request (or no filter chain for the connection)',
  URX: 'gave up after the retry limit or the TCP connect-attempt limit',
  NC: 'the upstream cluster was not found',
  DT: 'the request or connection exceeded its max duration',
  DC: 'the downstream (client) closed the connection',
  LH: 'the local health check failed',
  UT: 'the upstream request timed out',
  LR: 'the connection was reset locally',
  UR: 'the upstream reset the connection',
  UC: 'the upstream closed the connection',
  DI: 'the request was delayed by fault injection',
  FI: 'the request was aborted by fault injection',
  RL: 'rate limited locally (local_ratelimit)',
  UAEX: 'denied by the external authorization service',
  RLSE: 'the rate-limit service failed',
  IH: 'a header failed strict validation',
  SI: 'the stream idle timeout expired',
  DPE: 'the downstream request had an HTTP protocol error',
  UPE: 'the upstream response had an HTTP protocol error',
  UMSDR: 'the upstream request reached its max stream duration',
  OM: 'the overload manager shed the request',
  DF: 'DNS resolution failed',
  DO: 'dropped by the overload manager or a drop_overload policy',
  DR: 'the downstream reset the stream',
  RFCF: 'a filter chain for the original destination was not found',
  NFCF: 'no filter chain matched the connection',
};

/** `"UH,URX"` -> one line of words; `-` or empty -> undefined. Unknown flags are named as they are. */
export function explainFlags(flags: string): string | undefined {
  if (flags === '' || flags === '-') return undefined;
  return flags.split(',').map((f) => {
    const words = RESPONSE_FLAGS[f.trim()];
    return words ? `${f.trim()}: ${words}` : `${f.trim()}: (flag not known to tsmesh)`;
  }).join('; ');
}

/** A status code without a flag still gets words, for the common ones. */
export function explainStatus(code: string): string | undefined {
  switch (code) {
    case '403': return 'forbidden: an authorization policy (RBAC) or the app refused it';
    case '401': return 'unauthenticated: a missing or invalid JWT';
    case '429': return 'too many requests: rate limited';
    case '500': return 'the application answered 500';
    case '502': return 'bad gateway: the upstream answered badly or reset';
    case '503': return 'service unavailable';
    case '504': return 'the upstream timed out';
    default: return undefined;
  }
}
