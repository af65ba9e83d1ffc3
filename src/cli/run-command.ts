/** `tsmesh run` and `tsmesh hosts ls|rm` (src/capture). */
import { parseArgs, one, int, UsageError, type ParsedArgs } from './args.js';
import { captureOptionsFrom, CAPTURE_FLAGS } from './iptables-command.js';
import { parseHostPort } from '../proxy/sidecar-bootstrap.js';
import { NETWORK_DEFAULTS, type NetworkOptions } from '../capture/host-network.js';
import { table } from './table.js';

export const RUN_USAGE = `  tsmesh run --name NAME [--namespace default] [--label k=v]... [--port P[/PROTOCOL]]...
             [--service-account SA] [--control URL] [--xds HOST:PORT] [--xds-tls HOST:PORT] [--no-mtls]
             [--drain-time-s 5]
             [--state-dir /run/tsmesh] [--bridge tsmesh0] [--gateway 198.18.0.1/16]
             [--inbound-port P --outbound-port P --admin-port P] [tsmesh iptables flags] -- COMMAND ...
      Put one workload in the mesh. As root: a host of its own (network namespace on the bridge),
      iptables capture, the sidecar as uid 1337, then COMMAND once the sidecar is ready; mesh
      names resolve through the host's /etc/hosts. Not as root: the sidecar on 127.0.0.1 and
      COMMAND with HTTP_PROXY. NAME.NAMESPACE.svc.cluster.local is registered with the --ports
      unless a ServiceEntry declares it. Exits with COMMAND's exit code, after the sidecar drained.
      When the control plane runs its CA, the sidecar joins with a join token through --xds-tls
      (default CONTROL_HOST:15012) and talks mutual TLS to other sidecars; --no-mtls: plaintext.
  tsmesh hosts ls|rm [NETNS... | --all] [--state-dir /run/tsmesh]
      The hosts of tsmesh run (and whether their run is alive); rm removes them.
`;

const NETWORK_FLAGS = ['state-dir', 'bridge', 'gateway'] as const;

function networkFrom(a: ParsedArgs): NetworkOptions {
  const gateway = one(a, 'gateway') ?? NETWORK_DEFAULTS.gateway;
  if (!/^198\.18\.\d{1,3}\.\d{1,3}\/(1[6-9]|2[0-9]|30)$/.test(gateway)) throw new UsageError(`--gateway: expected ADDRESS/PREFIX inside 198.18.0.0/16 (prefix 16-30), got ${JSON.stringify(gateway)}`);
  const bridge = one(a, 'bridge') ?? NETWORK_DEFAULTS.bridge;
  if (!/^[a-zA-Z0-9_-]{1,15}$/.test(bridge)) throw new UsageError(`--bridge: expected an interface name of at most 15 characters, got ${JSON.stringify(bridge)}`);
  return { stateDir: one(a, 'state-dir') ?? NETWORK_DEFAULTS.stateDir, bridge, gateway };
}

export async function runRunCommand(cmd: 'run' | 'hosts', argv: readonly string[], out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  return cmd === 'run' ? run(argv) : hosts(argv, out);
}

async function run(argv: readonly string[]): Promise<number> {
  const a = parseArgs(argv, {
    values: ['name', 'namespace', 'label', 'port', 'service-account', 'control', 'xds', 'xds-tls', 'drain-time-s', 'admin-port', ...NETWORK_FLAGS, ...CAPTURE_FLAGS],
    booleans: ['no-mtls'],
  });
  const dash = argv.indexOf('--');
  const command = dash >= 0 ? argv.slice(dash + 1) : [];
  if (command.length === 0) throw new UsageError('run: the command to run goes after --, e.g. tsmesh run --name reviews --port 9080 -- node app.js');
  if (a.positional.length > command.length) throw new UsageError(`run: unexpected argument ${JSON.stringify(a.positional[0])} (the command goes after --)`);
  const name = one(a, 'name');
  if (!name || !DNS_LABEL.test(name)) throw new UsageError(`run: --name NAME is required, a DNS label (got ${JSON.stringify(name ?? '')})`);
  const namespace = one(a, 'namespace') ?? 'default';
  const serviceAccount = one(a, 'service-account') ?? 'default';
  for (const [flag, v] of [['namespace', namespace], ['service-account', serviceAccount]] as const) {
    if (!DNS_LABEL.test(v)) throw new UsageError(`--${flag}: ${JSON.stringify(v)} is not a DNS label`);
  }
  const labels: Record<string, string> = { app: name };
  for (const l of a.flags.get('label') ?? []) {
    const eq = l.indexOf('=');
    if (eq <= 0) throw new UsageError(`--label: expected KEY=VALUE, got ${JSON.stringify(l)}`);
    labels[l.slice(0, eq)] = l.slice(eq + 1);
  }
  const ports = (a.flags.get('port') ?? []).map((p) => {
    const m = /^(\d{1,5})(?:\/([A-Za-z0-9-]+))?$/.exec(p);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw new UsageError(`--port: expected PORT or PORT/PROTOCOL (9080, 9080/HTTP, 5432/TCP), got ${JSON.stringify(p)}`);
    return { number: Number(m[1]), protocol: (m[2] ?? 'HTTP').toUpperCase() };
  });
  if (new Set(ports.map((p) => p.number)).size !== ports.length) throw new UsageError('--port: a port is given twice');
  const control = one(a, 'control') ?? process.env['TSMESH_CONTROL'] ?? 'http://127.0.0.1:15014';
  let controlHost: string;
  try {
    controlHost = new URL(control).hostname.replace(/^\[|\]$/g, '');
  } catch {
    throw new UsageError(`--control: expected a URL like http://127.0.0.1:15014, got ${JSON.stringify(control)}`);
  }
  const xds = parseHostPort(one(a, 'xds') ?? (controlHost.includes(':') ? `[${controlHost}]:15010` : `${controlHost}:15010`));
  if (typeof xds === 'string') throw new UsageError(`--xds: ${xds}`);
  const xdsTls = parseHostPort(one(a, 'xds-tls') ?? (controlHost.includes(':') ? `[${controlHost}]:15012` : `${controlHost}:15012`));
  if (typeof xdsTls === 'string') throw new UsageError(`--xds-tls: ${xdsTls}`);
  const join = a.flags.has('no-mtls') ? undefined : await joinToken(control, namespace, serviceAccount);
  const capture = captureOptionsFrom(a);
  const root = process.getuid?.() === 0;
  // Whoever reads our output may go away (a closed pipe): the host must still be cleaned up.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => { /* nowhere to report it */ });
  const { runWorkload } = await import('../capture/run.js');
  const code = await runWorkload({
    name, namespace, labels, serviceAccount, ports, command, control, xds,
    ...(join ? { join: { token: join, tls: xdsTls } } : {}),
    network: networkFrom(a),
    capture,
    drainTimeS: int(a, 'drain-time-s', 5, 0, 3600),
    // Without root the sidecar's ports are on 127.0.0.1 beside everything else: explicit or free.
    localPorts: root ? { inbound: 0, outbound: 0, admin: 0 } : {
      inbound: a.flags.has('inbound-port') ? capture.inboundPort : 0,
      outbound: a.flags.has('outbound-port') ? capture.outboundPort : 0,
      admin: int(a, 'admin-port', 0, 0, 65535),
    },
    log: (line) => process.stderr.write(`${line}\n`),
  });
  // The workload is over: whatever handle might still be open (a connection of a peer that
  // vanished) must not keep tsmesh run from exiting with its code. unref: fires only then.
  setTimeout(() => process.exit(code), 2000).unref();
  return code;
}

/**
 * A join token for the workload's identity from the control plane's CA (POST /ca/tokens). No CA
 * (a control plane without its TLS port) means plaintext, said in one line; an unreachable
 * control plane is left to the sidecar, which waits for it.
 */
async function joinToken(control: string, namespace: string, serviceAccount: string): Promise<string | undefined> {
  let r: Response;
  try {
    r = await fetch(`${control.replace(/\/$/, '')}/ca/tokens`, { method: 'POST', body: JSON.stringify({ namespace, serviceAccount, ttl: '1h' }), signal: AbortSignal.timeout(10_000) });
  } catch (e) {
    process.stderr.write(`tsmesh run: cannot reach the control plane at ${control} for a join token (${(e as Error).message}); running without a workload certificate (plaintext)\n`);
    return undefined;
  }
  if (r.status === 404) {
    process.stderr.write('tsmesh run: the control plane runs no CA (start it with --xds-tls-port); running without a workload certificate (plaintext)\n');
    return undefined;
  }
  const body = (await r.json().catch(() => ({}))) as { token?: string; error?: string };
  if (!r.ok || typeof body.token !== 'string') throw new UsageError(`run: the control plane refused a join token for ${namespace}/${serviceAccount}: ${body.error ?? `HTTP ${r.status}`}`);
  return body.token;
}

async function hosts(argv: readonly string[], out: (s: string) => void): Promise<number> {
  const a = parseArgs(argv, { values: [...NETWORK_FLAGS], booleans: ['all'] });
  const [sub, ...names] = a.positional;
  const net = networkFrom(a);
  const { listHosts, ownerAlive, removeHost } = await import('../capture/host-network.js');
  const all = listHosts(net);
  if (sub === 'ls') {
    out(table(['NETNS', 'WORKLOAD', 'ADDRESS', 'BRIDGE', 'RUN PID', 'STATE', 'STARTED'], all.map((h) => [h.netns, h.workload, h.address, h.bridge, String(h.pid), ownerAlive(h) ? 'running' : 'stale', h.startedAt])));
    return 0;
  }
  if (sub === 'rm') {
    if (names.length === 0 && !a.flags.has('all')) throw new UsageError('hosts rm: name the hosts (NETNS as tsmesh hosts ls shows) or give --all');
    const chosen = a.flags.has('all') ? all : all.filter((h) => names.includes(h.netns));
    const unknown = names.filter((n) => !all.some((h) => h.netns === n));
    for (const h of chosen) {
      if (ownerAlive(h)) process.kill(h.pid, 'SIGTERM');
      await removeHost(net, h);
      out(`removed ${h.netns}\n`);
    }
    for (const n of unknown) process.stderr.write(`tsmesh hosts rm: no host ${n}\n`);
    return unknown.length > 0 ? 1 : 0;
  }
  throw new UsageError('hosts: expected ls or rm');
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
