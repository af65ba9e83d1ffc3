/** Host names as Istio resolves them: short names are relative to the resource's namespace. Pure. */

export const DOMAIN_SUFFIX = 'svc.cluster.local';

/**
 * Istio's rule (ResolveShortnameToFQDN): a host without a dot is a Kubernetes short name in the
 * resource's namespace (`reviews` in `default` → `reviews.default.svc.cluster.local`); anything
 * with a dot, and wildcards, are taken as written. Lowercased: DNS is case-insensitive.
 */
export function resolveHost(host: string, namespace: string): string {
  const h = host.toLowerCase();
  if (h === '*' || h.includes('.')) return h;
  return `${h}.${namespace}.${DOMAIN_SUFFIX}`;
}

/** Whether `pattern` (a name, `*` or `*.suffix`) covers the concrete host `host`. */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1));
  return pattern === host;
}
