/**
 * When to renew a certificate valid from `notBefore` to `notAfter` (ms): at half its life,
 * moved by up to ±`jitter` of the life (so a fleet started together does not renew together).
 * `random` is in [0, 1). Pure.
 */
export function renewalTime(notBefore: number, notAfter: number, random: number, jitter = 0.05): number {
  const life = Math.max(0, notAfter - notBefore);
  return notBefore + life * (0.5 + (random * 2 - 1) * jitter);
}

/** After a failed renewal: retry soon, but never later than a little before expiry. */
export function retryDelay(attempt: number, now: number, notAfter: number): number {
  const backoff = Math.min(30_000, 500 * 2 ** Math.min(attempt, 10));
  return Math.max(100, Math.min(backoff, (notAfter - now) / 4));
}
