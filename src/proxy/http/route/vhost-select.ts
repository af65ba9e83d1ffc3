import { ConfigError } from '../../../envoy/registry.js';
import { asciiLower } from './ascii.js';

interface Wildcards<V> {
  /** Length of the wildcard domain including `*`, minus 1: the characters it must match. */
  readonly length: number;
  readonly map: Map<string, V>;
}

/**
 * Virtual host lookup by domain, as Envoy's `RouteMatcher::findVirtualHost`: an exact domain
 * first, then the longest suffix wildcard (`*.foo.com`, `*-bar.foo.com`), then the longest
 * prefix wildcard (`foo.*`), then `*`. A wildcard never matches the empty string. The Host is
 * lower-cased (ASCII) and compared with its port unless `ignore_port_in_host_matching` (Envoy
 * does not strip the port by default: list `host:port` domains, as Istio does).
 */
export class DomainIndex<V> {
  readonly #exact = new Map<string, V>();
  readonly #suffixes: Wildcards<V>[] = [];
  readonly #prefixes: Wildcards<V>[] = [];
  #default: V | undefined;
  readonly #where = new Map<string, string>();

  constructor(readonly ignorePort: boolean) {}

  /** Adds a domain for `value`; `path` names it for errors. Throws ConfigError on duplicates. */
  add(domain: string, value: V, path: string): void {
    if (!domain) throw new ConfigError(path, 'must not be empty');
    if (/[\0\r\n]/.test(domain)) throw new ConfigError(path, 'must not contain NUL, CR or LF');
    const d = asciiLower(domain);
    const key = d === '*' ? '*' : d[0] === '*' ? `s:${d}` : d[d.length - 1] === '*' ? `p:${d}` : `e:${d}`;
    const prev = this.#where.get(key);
    if (prev !== undefined) {
      throw new ConfigError(path, d === '*'
        ? `Only a single wildcard domain is permitted (already at ${prev})`
        : `Only unique values for domains are permitted: duplicate of ${prev} (${JSON.stringify(d)})`);
    }
    this.#where.set(key, path);
    if (d === '*') this.#default = value;
    else if (d[0] === '*') addWildcard(this.#suffixes, d.slice(1), value);
    else if (d[d.length - 1] === '*') addWildcard(this.#prefixes, d.slice(0, -1), value);
    else this.#exact.set(d, value);
  }

  /** The value for a Host / :authority, or undefined (no domain matched and no `*`). */
  find(authority: string): V | undefined {
    if (this.#exact.size === 0 && this.#suffixes.length === 0 && this.#prefixes.length === 0) return this.#default;
    let host = authority;
    if (this.ignorePort) {
      const p = portStart(host);
      if (p >= 0) host = host.slice(0, p);
    }
    host = asciiLower(host);
    const exact = this.#exact.get(host);
    if (exact !== undefined) return exact;
    for (const w of this.#suffixes) {
      if (w.length >= host.length) continue;
      const v = w.map.get(host.slice(host.length - w.length));
      if (v !== undefined) return v;
    }
    for (const w of this.#prefixes) {
      if (w.length >= host.length) continue;
      const v = w.map.get(host.slice(0, w.length));
      if (v !== undefined) return v;
    }
    return this.#default;
  }
}

function addWildcard<V>(list: Wildcards<V>[], key: string, value: V): void {
  let w = list.find((x) => x.length === key.length);
  if (!w) {
    w = { length: key.length, map: new Map() };
    list.push(w);
    list.sort((a, b) => b.length - a.length);
  }
  w.map.set(key, value);
}

/** Envoy's `HeaderUtility::getPortStart`: the `:` before a port, not inside `[v6]`; -1 if none. */
export function portStart(host: string): number {
  const colon = host.lastIndexOf(':');
  if (colon < 0) return -1;
  const v6End = host.lastIndexOf(']');
  return v6End < 0 || v6End < colon ? colon : -1;
}
