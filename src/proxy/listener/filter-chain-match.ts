import type { FilterChainMatch } from '../../envoy/generated/envoy/config/listener/v3/listener_components_pb.js';
import { ConfigError } from '../../envoy/registry.js';
import { Cidr } from './cidr.js';

/** What is known of a new connection when its filter chain is chosen. */
export interface ConnectionFacts {
  destinationPort: number;
  destinationIp: string;
  sourceIp: string;
  sourcePort: number;
  /** 'tls' or 'raw_buffer' (Envoy's names), set by the TLS inspector. */
  transportProtocol: string;
  serverName: string;
  applicationProtocols: readonly string[];
}

export interface CompiledMatch {
  readonly destinationPort: number | undefined;
  readonly prefixRanges: readonly Cidr[];
  readonly serverNames: readonly string[];
  readonly transportProtocol: string;
  readonly applicationProtocols: readonly string[];
  readonly sourcePrefixRanges: readonly Cidr[];
  readonly sourcePorts: readonly number[];
}

export function compileMatch(m: FilterChainMatch | undefined, path: string): CompiledMatch {
  const cidrs = (list: FilterChainMatch['prefixRanges'], field: string): Cidr[] =>
    list.map((c, i) => Cidr.parse(c.addressPrefix, c.prefixLen, `${path}.${field}[${i}]`));
  const serverNames = (m?.serverNames ?? []).map((n, i) => {
    const s = n.toLowerCase();
    if (!s || (s.includes('*') && !s.startsWith('*.') && s !== '*')) throw new ConfigError(`${path}.server_names[${i}]`, `invalid server name ${JSON.stringify(n)}: only a leading "*." wildcard is allowed`);
    return s;
  });
  const port = m?.destinationPort;
  if (port !== undefined && (port < 1 || port > 65535)) throw new ConfigError(`${path}.destination_port`, `expected 1-65535, got ${port}`);
  return {
    destinationPort: port,
    prefixRanges: cidrs(m?.prefixRanges ?? [], 'prefix_ranges'),
    serverNames,
    transportProtocol: m?.transportProtocol ?? '',
    applicationProtocols: m?.applicationProtocols ?? [],
    sourcePrefixRanges: cidrs(m?.sourcePrefixRanges ?? [], 'source_prefix_ranges'),
    sourcePorts: m?.sourcePorts ?? [],
  };
}

/** A canonical text of a match, to refuse two chains with the same rules (as Envoy does). */
export function matchKey(m: CompiledMatch): string {
  return JSON.stringify([m.destinationPort ?? null, m.prefixRanges.map((c) => `${c.prefix}/${c.len}`).sort(), [...m.serverNames].sort(), m.transportProtocol, [...m.applicationProtocols].sort(), m.sourcePrefixRanges.map((c) => `${c.prefix}/${c.len}`).sort(), [...m.sourcePorts].sort()]);
}

/** Whether choosing among these chains needs SNI / ALPN / transport detection. */
export function needsTlsInspection(matches: readonly CompiledMatch[]): boolean {
  return matches.some((m) => m.serverNames.length > 0 || m.transportProtocol !== '' || m.applicationProtocols.length > 0);
}

/**
 * Envoy's filter chain selection: criteria in a fixed order (destination port, destination IP,
 * server name, transport protocol, application protocols, source IP, source port); at each
 * step the most specific match wins and chains that leave the criterion unset are the fallback.
 * Returns the index of the chosen chain, or -1.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/listener/v3/listener_components.proto#config-listener-v3-filterchainmatch
 */
export function selectFilterChain(matches: readonly CompiledMatch[], f: ConnectionFacts): number {
  let c = matches.map((_, i) => i);
  c = narrow(c, (i) => {
    const p = matches[i]!.destinationPort;
    return p === undefined ? 0 : p === f.destinationPort ? 1 : -1;
  });
  c = narrow(c, (i) => cidrScore(matches[i]!.prefixRanges, f.destinationIp));
  c = narrow(c, (i) => nameScore(matches[i]!.serverNames, f.serverName));
  c = narrow(c, (i) => {
    const t = matches[i]!.transportProtocol;
    return t === '' ? 0 : t === f.transportProtocol ? 1 : -1;
  });
  c = narrow(c, (i) => {
    const a = matches[i]!.applicationProtocols;
    return a.length === 0 ? 0 : a.some((p) => f.applicationProtocols.includes(p)) ? 1 : -1;
  });
  c = narrow(c, (i) => cidrScore(matches[i]!.sourcePrefixRanges, f.sourceIp));
  c = narrow(c, (i) => {
    const p = matches[i]!.sourcePorts;
    return p.length === 0 ? 0 : p.includes(f.sourcePort) ? 1 : -1;
  });
  return c.length > 0 ? c[0]! : -1;
}

/** Keeps the candidates with the highest non-negative score (0 = criterion unset). */
function narrow(cands: number[], score: (i: number) => number): number[] {
  let best = -1;
  let out: number[] = [];
  for (const i of cands) {
    const s = score(i);
    if (s < 0 || s < best) continue;
    if (s > best) { best = s; out = []; }
    out.push(i);
  }
  return out;
}

function cidrScore(ranges: readonly Cidr[], ip: string): number {
  if (ranges.length === 0) return 0;
  let best = -1;
  for (const r of ranges) if (r.len + 1 > best && r.contains(ip)) best = r.len + 1;
  return best;
}

function nameScore(names: readonly string[], sni: string): number {
  if (names.length === 0) return 0;
  let best = -1;
  for (const n of names) {
    if (n === sni) return 1 << 20;
    if (n.startsWith('*') && sni.endsWith(n.slice(1)) && sni.length > n.length - 1) best = Math.max(best, n.length);
  }
  return best;
}
