import { isIPv4 } from 'node:net';

/**
 * What traffic capture redirects, as Istio's istio-init (`istio-iptables`) takes it. Lists are
 * `'*'` for everything or explicit values; the defaults are Istio's.
 */
export interface CaptureOptions {
  /** Where outbound TCP goes (the sidecar's virtualOutbound). */
  readonly outboundPort: number;
  /** Where inbound TCP goes (virtualInbound). */
  readonly inboundPort: number;
  /** The sidecar's uid and gid: its own connections are never redirected. */
  readonly proxyUid: number;
  readonly proxyGid: number;
  /** Outbound destinations redirected: '*' or IPv4 CIDRs. */
  readonly includeOutboundCidrs: '*' | readonly string[];
  readonly excludeOutboundCidrs: readonly string[];
  /** Inbound ports redirected: '*' (all but the excluded) or a list. */
  readonly includeInboundPorts: '*' | readonly number[];
  /** Inbound ports never redirected, on top of the proxy's own (PROXY_INBOUND_PORTS). */
  readonly excludeInboundPorts: readonly number[];
  /** Outbound ports always redirected, whatever the destination CIDR. */
  readonly includeOutboundPorts: readonly number[];
  /** Outbound ports never redirected. */
  readonly excludeOutboundPorts: readonly number[];
}

export const CAPTURE_DEFAULTS: CaptureOptions = {
  outboundPort: 15001,
  inboundPort: 15006,
  proxyUid: 1337,
  proxyGid: 1337,
  includeOutboundCidrs: '*',
  excludeOutboundCidrs: [],
  includeInboundPorts: '*',
  excludeInboundPorts: [],
  includeOutboundPorts: [],
  excludeOutboundPorts: [],
};

/**
 * The proxy's own ports that reach it directly from outside and must not be captured: admin
 * (15000, loopback only anyway), HBONE (15008), the agent (15020), health (15021) and
 * Prometheus (15090).
 */
export const PROXY_INBOUND_PORTS: readonly number[] = [15000, 15008, 15020, 15021, 15090];

/** The source address Istio's inbound passthrough uses toward the app; never captured. */
const INBOUND_PASSTHROUGH_SOURCE = '127.0.0.6/32';

export const CHAINS = ['ISTIO_INBOUND', 'ISTIO_REDIRECT', 'ISTIO_IN_REDIRECT', 'ISTIO_OUTPUT'] as const;

/** The rules that send traffic into the chains: the only rules outside them. */
const JUMPS = [
  { chain: 'PREROUTING', rule: '-p tcp -j ISTIO_INBOUND' },
  { chain: 'OUTPUT', rule: '-p tcp -j ISTIO_OUTPUT' },
] as const;

export class CaptureOptionsError extends Error {}

/**
 * The nat-table rules, in order, as iptables arguments after `-t nat` (`-N CHAIN` and
 * `-A CHAIN ...`). Same options, same rules. Throws CaptureOptionsError for values that
 * cannot be written as rules (it names the option).
 */
export function captureRules(o: CaptureOptions): string[][] {
  check(o);
  const r: string[][] = CHAINS.map((c) => ['-N', c]);
  const add = (chain: string, ...args: string[]): void => { r.push(['-A', chain, ...args]); };

  add('ISTIO_REDIRECT', '-p', 'tcp', '-j', 'REDIRECT', '--to-ports', String(o.outboundPort));
  add('ISTIO_IN_REDIRECT', '-p', 'tcp', '-j', 'REDIRECT', '--to-ports', String(o.inboundPort));

  // Inbound: what arrives for the workload goes to the inbound port, except the proxy's own
  // ports (and the excluded ones); with an include list only those ports.
  add('PREROUTING', ...JUMPS[0].rule.split(' '));
  if (o.includeInboundPorts === '*') {
    for (const p of unique([...PROXY_INBOUND_PORTS, ...o.excludeInboundPorts])) add('ISTIO_INBOUND', '-p', 'tcp', '--dport', String(p), '-j', 'RETURN');
    add('ISTIO_INBOUND', '-p', 'tcp', '-j', 'ISTIO_IN_REDIRECT');
  } else {
    const excluded = new Set(o.excludeInboundPorts);
    for (const p of unique(o.includeInboundPorts)) if (!excluded.has(p)) add('ISTIO_INBOUND', '-p', 'tcp', '--dport', String(p), '-j', 'ISTIO_IN_REDIRECT');
  }

  // Outbound, in Istio's order.
  add('OUTPUT', ...JUMPS[1].rule.split(' '));
  for (const p of unique(o.excludeOutboundPorts)) add('ISTIO_OUTPUT', '-p', 'tcp', '--dport', String(p), '-j', 'RETURN');
  add('ISTIO_OUTPUT', '-o', 'lo', '-s', INBOUND_PASSTHROUGH_SOURCE, '-j', 'RETURN');
  for (const [kind, id] of [['--uid-owner', o.proxyUid], ['--gid-owner', o.proxyGid]] as const) {
    // The sidecar calling this host's own address (not 127.0.0.1): that is the workload calling
    // itself through its service, already through the outbound side; it must enter the inbound
    // side as any other caller would.
    add('ISTIO_OUTPUT', '-o', 'lo', '!', '-d', '127.0.0.1/32', '-m', 'owner', kind, String(id), '-j', 'ISTIO_IN_REDIRECT');
    // The app calling itself on loopback (or its own address): direct, as in Istio.
    add('ISTIO_OUTPUT', '-o', 'lo', '-m', 'owner', '!', kind, String(id), '-j', 'RETURN');
    // Everything else the sidecar sends goes out as it is.
    add('ISTIO_OUTPUT', '-m', 'owner', kind, String(id), '-j', 'RETURN');
  }
  add('ISTIO_OUTPUT', '-d', '127.0.0.1/32', '-j', 'RETURN');
  for (const p of unique(o.includeOutboundPorts)) add('ISTIO_OUTPUT', '-p', 'tcp', '--dport', String(p), '-j', 'ISTIO_REDIRECT');
  for (const c of unique(o.excludeOutboundCidrs)) add('ISTIO_OUTPUT', '-d', c, '-j', 'RETURN');
  if (o.includeOutboundCidrs === '*') add('ISTIO_OUTPUT', '-j', 'ISTIO_REDIRECT');
  else for (const c of unique(o.includeOutboundCidrs)) add('ISTIO_OUTPUT', '-d', c, '-j', 'ISTIO_REDIRECT');
  return r;
}

/** The rules as `iptables-restore --noflush` input (the nat table only). */
export function restoreText(rules: readonly string[][]): string {
  const lines = ['*nat'];
  for (const r of rules) lines.push(r[0] === '-N' ? `:${r[1]} - [0:0]` : r.map(quote).join(' '));
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/**
 * What removes exactly what captureRules added, as iptables arguments after `-t nat`: the two
 * jumps, then each chain flushed and deleted. Other rules of the table are not touched.
 */
export function cleanupCommands(): string[][] {
  return [
    ...JUMPS.map((j) => ['-D', j.chain, ...j.rule.split(' ')]),
    ...CHAINS.map((c) => ['-F', c]),
    ...CHAINS.map((c) => ['-X', c]),
  ];
}

/** One `iptables` command line per rule, for --dry-run and logs. */
export function commandLines(rules: readonly string[][]): string[] {
  return rules.map((r) => ['iptables', '-t', 'nat', ...r].map(quote).join(' '));
}

function quote(s: string): string {
  return /^[-\w./:*!=]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

function check(o: CaptureOptions): void {
  const port = (name: string, p: number): void => {
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new CaptureOptionsError(`${name}: expected a port 1-65535, got ${p}`);
  };
  port('outbound port', o.outboundPort);
  port('inbound port', o.inboundPort);
  for (const [name, id] of [['proxy uid', o.proxyUid], ['proxy gid', o.proxyGid]] as const) {
    if (!Number.isInteger(id) || id < 0 || id > 0xffff_fffe) throw new CaptureOptionsError(`${name}: expected a non-negative integer, got ${id}`);
  }
  const lists = [['include inbound ports', o.includeInboundPorts], ['exclude inbound ports', o.excludeInboundPorts], ['include outbound ports', o.includeOutboundPorts], ['exclude outbound ports', o.excludeOutboundPorts]] as const;
  for (const [name, l] of lists) if (l !== '*') for (const p of l) port(name, p);
  for (const [name, l] of [['include outbound CIDRs', o.includeOutboundCidrs], ['exclude outbound CIDRs', o.excludeOutboundCidrs]] as const) {
    if (l === '*') continue;
    for (const c of l) if (!isCidr4(c)) throw new CaptureOptionsError(`${name}: expected an IPv4 CIDR like 10.0.0.0/8, got ${JSON.stringify(c)}`);
  }
}

function isCidr4(c: string): boolean {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(c);
  return !!m && isIPv4(m[1]!) && Number(m[2]) <= 32;
}

/**
 * Parses a comma-separated list flag: `*` (when allowed), empty, or values. Pure; throws
 * CaptureOptionsError naming the flag.
 */
export function parsePortList(flag: string, s: string, star: true): '*' | number[];
export function parsePortList(flag: string, s: string, star: false): number[];
export function parsePortList(flag: string, s: string, star: boolean): '*' | number[] {
  return parseList(flag, s, star, (x) => {
    const n = Number(x);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new CaptureOptionsError(`--${flag}: expected ports 1-65535 separated by commas, got ${JSON.stringify(x)}`);
    return n;
  });
}

export function parseCidrList(flag: string, s: string, star: boolean): '*' | string[] {
  return parseList(flag, s, star, (x) => {
    const c = x.includes('/') ? x : `${x}/32`;
    if (!isCidr4(c)) throw new CaptureOptionsError(`--${flag}: expected IPv4 CIDRs separated by commas, got ${JSON.stringify(x)}`);
    return c;
  });
}

/** `*` (when allowed), empty, or comma-separated items, each trimmed and checked by `item`. */
function parseList<T>(flag: string, s: string, star: boolean, item: (x: string) => T): '*' | T[] {
  const t = s.trim();
  if (t === '*') {
    if (star) return '*';
    throw new CaptureOptionsError(`--${flag}: '*' is not allowed here`);
  }
  if (t === '') return [];
  return t.split(',').map((x) => item(x.trim()));
}
