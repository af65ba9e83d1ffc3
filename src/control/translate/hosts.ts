import type { Service } from '../registry/model.js';

export const DOMAIN_SUFFIX = 'svc.cluster.local';

/**
 * A host written in a VirtualService / DestinationRule of `namespace`, as Istio resolves it: a
 * short name (no dot) means `<name>.<namespace>.svc.cluster.local`. tsmesh adds one leniency:
 * when no service has that FQDN but one is literally named so (a ServiceEntry host "reviews"),
 * the literal name is used.
 */
export function resolveHost(host: string, namespace: string, known: ReadonlySet<string>): string {
  if (host.includes('.') || host === '*' || host.startsWith('*')) return host;
  const fqdn = `${host}.${namespace}.${DOMAIN_SUFFIX}`;
  return known.has(fqdn) || !known.has(host) ? fqdn : host;
}

/** Does config host `pattern` (maybe `*.example.com` or `*`) cover service host `host`? */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === host || pattern === '*') return true;
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1));
  return false;
}

/** How specific a match is: exact beats any wildcard, a longer wildcard beats a shorter one. */
export function matchRank(pattern: string, host: string): number {
  if (pattern === host) return Number.MAX_SAFE_INTEGER;
  return hostMatches(pattern, host) ? pattern.length : -1;
}

/**
 * The names a client may use for `svc`, as Istio generates a virtual host's domains: the
 * FQDN, for a service of the proxy's own namespace its short names (`reviews`,
 * `reviews.default`, `reviews.default.svc`), for one in another namespace `reviews.other`
 * and `reviews.other.svc`.
 */
export function hostNames(svc: Service, proxyNamespace: string): string[] {
  const names = [svc.hostname];
  const suffix = `.${DOMAIN_SUFFIX}`;
  if (svc.hostname.endsWith(suffix)) {
    const parts = svc.hostname.slice(0, -suffix.length).split('.');
    if (parts.length === 2) {
      const [name, ns] = parts as [string, string];
      if (ns === proxyNamespace) names.push(name);
      names.push(`${name}.${ns}`, `${name}.${ns}.svc`);
    }
  }
  return names;
}

/** The service's VIPs usable as a Host: single addresses only (Istio skips CIDR ranges). */
export function vips(svc: Service): string[] {
  return svc.addresses.filter((a) => !a.includes('/') || a.endsWith('/32')).map((a) => a.replace(/\/32$/, ''));
}

/** hostNames and VIPs: what a virtual host's domains are made of. */
export function hostAliases(svc: Service, proxyNamespace: string): string[] {
  return [...hostNames(svc, proxyNamespace), ...vips(svc)];
}

/** Each alias without the port (the HTTP client sent none) and with it. */
export function domainsFor(svc: Service, port: number, proxyNamespace: string): string[] {
  const out: string[] = [];
  for (const n of hostAliases(svc, proxyNamespace)) out.push(n, `${n}:${port}`);
  return out;
}
