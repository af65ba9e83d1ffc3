import { isIP } from 'node:net';
import { one, int, UsageError, type ParsedArgs } from './args.js';
import { readFileSync } from 'node:fs';
import { parseHostPort, SIDECAR_DEFAULTS, type SidecarJoin, type SidecarOptions } from '../proxy/sidecar-bootstrap.js';
import { readJoinToken, TokenError, type JoinTokenClaims } from '../pki/join-token.js';
import { parseDurationMs } from '../control/config/duration.js';

/** The `tsmesh proxy` flags that describe a sidecar (bootstrap built from flags, config over xDS). */
export const SIDECAR_VALUE_FLAGS = ['xds', 'xds-api', 'name', 'namespace', 'label', 'service-account', 'ip', 'outbound-port', 'inbound-port', 'admin-port', 'app-port', 'status-port', 'token-file', 'ca-address', 'workload-cert-ttl', 'interception-mode', 'service', 'service-port'] as const;
export const SIDECAR_BOOLEAN_FLAGS = ['print-bootstrap'] as const;

export const SIDECAR_USAGE = `  tsmesh proxy --xds HOST:PORT --name NAME [--namespace NS] [--label k=v]... [--service-account SA]
               [--ip IP] [--outbound-port 15001] [--inbound-port 15006] [--admin-port 15000]
               [--app-port P]... [--xds-api sotw|delta] [--status-port P] [--print-bootstrap]
               [--token-file FILE [--ca-address HOST:PORT] [--workload-cert-ttl 24h]]
               [--interception-mode NONE|REDIRECT] [--service NAME --service-port P[/PROTOCOL]...]
      Run as a sidecar: the bootstrap is built from the flags and listeners, routes and clusters
      come from the control plane over ADS. --print-bootstrap prints that bootstrap (YAML) and exits.
      --status-port (Istio: 15021) serves GET /healthz/ready on 0.0.0.0 for readiness probes.
      With --token-file (from tsmesh token create) --xds is the TLS port (15012): the proxy checks
      the control plane against the root the token pins, gets its workload certificate (namespace
      and service account from the token), renews it, and runs ADS over mutual TLS.
      REDIRECT: iptables sends the workload's traffic here (tsmesh iptables / tsmesh run).
      --service: offer NAME.NAMESPACE.svc.cluster.local on these ports where no ServiceEntry does.`;

/**
 * Reads the sidecar flags; undefined when none is given (a `-c FILE` proxy). Throws UsageError
 * for a flag combination or value that cannot work, naming the flag.
 */
export function sidecarOptionsFrom(a: ParsedArgs): SidecarOptions | undefined {
  const given = [...SIDECAR_VALUE_FLAGS, ...SIDECAR_BOOLEAN_FLAGS].filter((f) => a.flags.has(f));
  const xds = one(a, 'xds');
  if (xds === undefined) {
    if (given.length > 0) throw new UsageError(`proxy: --${given[0]} needs --xds HOST:PORT (it describes a sidecar that takes its config from a control plane)`);
    return undefined;
  }
  if (a.flags.has('config-path')) throw new UsageError('proxy: give either -c BOOTSTRAP or --xds HOST:PORT, not both');
  const addr = parseHostPort(xds);
  if (typeof addr === 'string') throw new UsageError(`--xds: ${addr}`);
  const name = one(a, 'name');
  if (!name) throw new UsageError('proxy: --xds needs --name NAME (the workload\'s name, as a pod name)');
  const api = one(a, 'xds-api') ?? SIDECAR_DEFAULTS.xdsApi;
  if (api !== 'sotw' && api !== 'delta') throw new UsageError(`--xds-api: expected sotw or delta, got ${JSON.stringify(api)}`);
  const ip = one(a, 'ip') ?? SIDECAR_DEFAULTS.ip;
  if (!isIP(ip)) throw new UsageError(`--ip: expected an IP address, got ${JSON.stringify(ip)}`);
  const join = joinFrom(a);
  const namespace = one(a, 'namespace') ?? join?.claims.ns ?? SIDECAR_DEFAULTS.namespace;
  const serviceAccount = one(a, 'service-account') ?? join?.claims.sa ?? SIDECAR_DEFAULTS.serviceAccount;
  if (join && (namespace !== join.claims.ns || serviceAccount !== join.claims.sa)) {
    throw new UsageError(`--token-file: the token is for namespace ${join.claims.ns}, service account ${join.claims.sa}; --namespace/--service-account say ${namespace}/${serviceAccount}`);
  }
  for (const [flag, v] of [['name', name], ['namespace', namespace], ['service-account', serviceAccount]] as const) {
    if (!DNS_LABEL.test(v)) throw new UsageError(`--${flag}: ${JSON.stringify(v)} is not a DNS label (lower-case letters, digits and '-', at most 63)`);
  }
  const labels: Record<string, string> = {};
  for (const l of a.flags.get('label') ?? []) {
    const eq = l.indexOf('=');
    const [k, v] = eq < 0 ? [l, undefined] : [l.slice(0, eq), l.slice(eq + 1)];
    if (v === undefined || !labelKeyOk(k)) throw new UsageError(`--label: expected KEY=VALUE with a Kubernetes label key, got ${JSON.stringify(l)}`);
    if (!(v === '' || LABEL_VALUE.test(v))) throw new UsageError(`--label ${k}: ${JSON.stringify(v)} is not a valid label value`);
    labels[k] = v;
  }
  const port = (f: string, def: number): number => int(a, f, def, 1, 65535);
  const appPorts = (a.flags.get('app-port') ?? []).map((p) => {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`--app-port: expected an integer 1-65535, got ${JSON.stringify(p)}`);
    return n;
  });
  const mode = one(a, 'interception-mode') ?? 'NONE';
  if (mode !== 'NONE' && mode !== 'REDIRECT') throw new UsageError(`--interception-mode: expected NONE or REDIRECT, got ${JSON.stringify(mode)}`);
  const service = one(a, 'service');
  if (service !== undefined && !DNS_LABEL.test(service)) throw new UsageError(`--service: ${JSON.stringify(service)} is not a DNS label`);
  const servicePorts = (a.flags.get('service-port') ?? []).map((p) => {
    const m = /^(\d{1,5})(?:\/([A-Za-z0-9-]+))?$/.exec(p);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw new UsageError(`--service-port: expected PORT or PORT/PROTOCOL (e.g. 9080/HTTP, 5432/TCP), got ${JSON.stringify(p)}`);
    return { number: Number(m[1]), protocol: (m[2] ?? 'HTTP').toUpperCase() };
  });
  if ((service === undefined) !== (servicePorts.length === 0)) throw new UsageError('--service and --service-port go together');
  const o: SidecarOptions = {
    xds: addr,
    xdsApi: api,
    name,
    namespace,
    labels,
    serviceAccount,
    ip,
    outboundPort: port('outbound-port', SIDECAR_DEFAULTS.outboundPort),
    inboundPort: port('inbound-port', SIDECAR_DEFAULTS.inboundPort),
    adminPort: port('admin-port', SIDECAR_DEFAULTS.adminPort),
    appPorts,
    ...(mode === 'REDIRECT' ? { interceptionMode: 'REDIRECT' as const } : {}),
    ...(service !== undefined ? { service: { name: service, ports: servicePorts } } : {}),
    ...(a.flags.has('status-port') ? { statusPort: port('status-port', 15021) } : {}),
    ...(join ? { join: join.join } : {}),
  };
  const ports = new Map<number, string>();
  for (const [flag, p] of [['outbound-port', o.outboundPort], ['inbound-port', o.inboundPort], ['admin-port', o.adminPort], ...(o.statusPort ? [['status-port', o.statusPort] as const] : []), ...appPorts.map((p) => ['app-port', p] as const)] as const) {
    const prev = ports.get(p);
    if (prev !== undefined) throw new UsageError(`--${flag} ${p}: the same port as --${prev}`);
    ports.set(p, flag);
  }
  return o;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** A Kubernetes label key: an optional DNS-subdomain prefix and `/`, then a name like a value. */
function labelKeyOk(k: string): boolean {
  const slash = k.indexOf('/');
  const [prefix, name] = slash < 0 ? [undefined, k] : [k.slice(0, slash), k.slice(slash + 1)];
  if (prefix !== undefined && !(prefix.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(prefix))) return false;
  return LABEL_VALUE.test(name);
}

/** --token-file and what goes with it; undefined without one. */
function joinFrom(a: ParsedArgs): { join: SidecarJoin; claims: JoinTokenClaims } | undefined {
  const file = one(a, 'token-file');
  if (file === undefined) {
    for (const f of ['ca-address', 'workload-cert-ttl']) if (a.flags.has(f)) throw new UsageError(`proxy: --${f} needs --token-file FILE`);
    return undefined;
  }
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new UsageError(`--token-file: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let claims: JoinTokenClaims;
  try {
    claims = readJoinToken(token);
  } catch (e) {
    if (e instanceof TokenError) throw new UsageError(`--token-file ${file}: not a join token: ${e.message}`);
    throw e;
  }
  if (claims.exp * 1000 <= Date.now()) throw new UsageError(`--token-file ${file}: the token expired at ${new Date(claims.exp * 1000).toISOString()} (tsmesh token create makes a new one)`);
  const caAddr = one(a, 'ca-address');
  const ca = caAddr === undefined ? undefined : parseHostPort(caAddr);
  if (typeof ca === 'string') throw new UsageError(`--ca-address: ${ca}`);
  const ttl = one(a, 'workload-cert-ttl');
  const ttlMs = ttl === undefined ? undefined : parseDurationMs(ttl);
  if (ttl !== undefined && (ttlMs === undefined || ttlMs < 1000)) throw new UsageError(`--workload-cert-ttl: expected a duration of at least 1s such as 24h, got ${JSON.stringify(ttl)}`);
  return { join: { token, ...(ca ? { ca } : {}), ...(ttlMs !== undefined ? { certTtlSeconds: Math.floor(ttlMs / 1000) } : {}) }, claims };
}
