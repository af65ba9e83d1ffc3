import { parseArgs, one, int, UsageError } from './args.js';
import { ConfigError } from '../envoy/registry.js';
import { BootstrapError } from '../proxy/config.js';
import { sidecarOptionsFrom, SIDECAR_USAGE } from './sidecar-flags.js';
import { PROXY_ARGS } from './proxy-args.js';
import { takeHandedOffBootstrap } from './bootstrap-handoff.js';
import { metricsOptionsFrom, METRICS_USAGE } from './metrics-flags.js';

/**
 * The help text. Each command's usage lives with the command, and importing a command module
 * loads its whole graph (control plane, capture, injection...), so the text is put together only
 * when it is printed: a proxy that loaded them all at start-up held ~9 MiB more of idle RSS.
 */
async function usage(): Promise<string> {
  const [{ MESH_USAGE, DASHBOARD_USAGE }, { PROXY_USAGE }, { CA_USAGE }, { IPTABLES_USAGE }, { RUN_USAGE }, { INJECT_USAGE }, { WEBHOOK_USAGE }] = await Promise.all([
    import('./mesh-usage.js'), import('./proxy-commands.js'), import('./ca-commands.js'),
    import('./iptables-command.js'), import('./run-command.js'), import('./inject-command.js'), import('./webhook-flags.js'),
  ]);
  return `tsmesh — a service mesh in TypeScript

Usage:
  tsmesh proxy -c BOOTSTRAP.yaml [--concurrency N] [--log-level LEVEL] [--drain-time-s S] [--validate]
      Run the data plane from an Envoy v3 bootstrap (YAML or JSON); --validate checks it and exits.
      SIGTERM drains (no new connections, in-flight requests finish) for up to --drain-time-s (5).
${SIDECAR_USAGE}
${METRICS_USAGE}
  tsmesh control [--config-dir DIR] [--data-dir DIR] [--xds-port 15010] [--xds-address 127.0.0.1]
                 [--http-port 15014] [--http-address 127.0.0.1] [--registry-grace-s 10] [--log-level LEVEL]
                 [--dashboard-scrape-s 5] [--xds-tls-port 15012|off] [--no-xds-plaintext] [--ca-dir DIR]
                 [--trust-domain cluster.local] [--workload-cert-ttl 24h]
      Run the control plane: mesh config from the watched --config-dir (default DATA_DIR/config)
      and from the API (tsmesh apply), kept in --data-dir (default: a new temp dir), served to
      proxies over ADS; sidecars that connect register their workload. The TLS port serves ADS and
      the CA (root in DATA_DIR/ca, or a plugged-in --ca-dir in Istio's cacerts layout).
${WEBHOOK_USAGE}
${MESH_USAGE}${PROXY_USAGE}${CA_USAGE}${INJECT_USAGE}${IPTABLES_USAGE}${RUN_USAGE}${DASHBOARD_USAGE}  tsmesh demo [--requests N] [--stay] [--no-capture]
      Control plane + a bookinfo-like app with a sidecar per workload, then a walk through a
      canary, an A/B route by header, retries over a flaky service and a timeout. Ctrl-C stops it.
      As root each workload runs on a host of its own (tsmesh run: capture, mutual TLS between
      hosts); otherwise, or with --no-capture, all on loopback through HTTP_PROXY.
  tsmesh help
`;
}

/** Runs a subcommand; resolves to the process exit code (a server resolves when it stops). */
export async function main(argv: readonly string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'proxy': {
        const a = parseArgs(rest, PROXY_ARGS);
        const file = one(a, 'config-path');
        const sidecar = sidecarOptionsFrom(a);
        if (!file && !sidecar) throw new UsageError('proxy: -c BOOTSTRAP or --xds HOST:PORT is required');
        const loaded = sidecar ? await (await import('../proxy/sidecar-start.js')).loadSidecarBootstrap(sidecar) : undefined;
        if (loaded && a.flags.has('print-bootstrap')) { process.stdout.write(await (await import('../proxy/sidecar-start.js')).bootstrapYaml(loaded)); return 0; }
        const agent = sidecar?.join && !a.flags.has('validate') ? await joinMesh(sidecar.join, sidecar.xds) : undefined;
        if (agent === null) return 1;
        const { runProxy } = await import('../proxy/main.js');
        return await runProxy({ bootstrapPath: file ?? 'sidecar bootstrap (--xds)', ...(loaded ? { bootstrap: loaded } : { bootstrapJson: takeHandedOffBootstrap() }), concurrency: int(a, 'concurrency', 2, 1, 256), logLevel: one(a, 'log-level') ?? 'info', validateOnly: a.flags.has('validate'), drainTimeMs: int(a, 'drain-time-s', 5, 0, 86_400) * 1000, metrics: metricsOptionsFrom(a, sidecar), ...(agent ? { agent } : {}) });
      }
      case 'control': {
        const { runControlCommand } = await import('./control-command.js');
        return await runControlCommand(rest);
      }
      case 'apply':
      case 'get':
      case 'delete':
      case 'analyze': {
        const { runMeshCommand } = await import('./mesh-commands.js');
        return await runMeshCommand(cmd, rest);
      }
      case 'proxy-status':
      case 'proxy-config': {
        const { runProxyCommand } = await import('./proxy-commands.js');
        return await runProxyCommand(cmd, rest);
      }
      case 'iptables': return await (await import('./iptables-command.js')).runIptablesCommand(rest);
      case 'run':
      case 'hosts': return await (await import('./run-command.js')).runRunCommand(cmd, rest);
      case 'inject': return await (await import('./inject-command.js')).runInjectCommand(rest);
      case 'dashboard': {
        const { runDashboardCommand } = await import('./dashboard-command.js');
        return await runDashboardCommand(rest, (line) => process.stdout.write(`${line}\n`));
      }
      case 'token':
      case 'ca': return await (await import('./ca-commands.js')).runCaCommand(cmd, rest);
      case 'demo-app': {
        // Not in the usage: one bookinfo app of the demo, as `tsmesh run` starts it on its host.
        const [name, version, port] = rest;
        if (!name || !version || !port) throw new UsageError('demo-app NAME VERSION PORT');
        const { startApp } = await import('../demo/bookinfo.js');
        const app = await startApp(name, version, Number(port));
        return await new Promise<number>((resolve) => { const stop = (): void => { void app.close().then(() => resolve(0)); }; process.once('SIGTERM', stop); process.once('SIGINT', stop); });
      }
      case 'demo': {
        const a = parseArgs(rest, { values: ['requests'], booleans: ['stay', 'no-capture'] });
        const { runDemo } = await import('../demo/main.js');
        const out = (line: string): void => { process.stdout.write(`${line}\n`); };
        let capture = process.getuid?.() === 0 && !a.flags.has('no-capture');
        if (capture) {
          const { missingCommands } = await import('../capture/host-tools.js');
          const missing = missingCommands(['ip', 'iptables-restore', 'setpriv', 'curl']);
          if (missing.length > 0) { out(`capture needs ${missing.join(', ')} (scripts/ensure-system-deps.sh installs them): running on loopback with HTTP_PROXY instead`); capture = false; }
        }
        return await runDemo({ requests: int(a, 'requests', 20, 1, 10_000), stay: a.flags.has('stay'), capture, out });
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(await usage());
        return cmd === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(cmd)}`);
    }
  } catch (e) {
    if (e instanceof UsageError) { process.stderr.write(`tsmesh: ${e.message}\n\n${await usage()}`); return 2; }
    if (e instanceof BootstrapError || e instanceof ConfigError) { process.stderr.write(`tsmesh: invalid configuration:\n${e.message}\n`); return 1; }
    throw e;
  }
}

/**
 * A sidecar with --token-file: the agent verifies the control plane, gets the first workload
 * certificate and then keeps renewing it. null (after saying why on stderr) when it cannot join.
 */
async function joinMesh(join: import('../proxy/sidecar-bootstrap.js').SidecarJoin, xds: { host: string; port: number }): Promise<import('../proxy/agent/workload-agent.js').WorkloadAgent | null> {
  const { WorkloadAgent } = await import('../proxy/agent/workload-agent.js');
  const { log } = await import('../proxy/log.js');
  const agent = new WorkloadAgent({ ca: join.ca ?? xds, token: join.token, ...(join.certTtlSeconds !== undefined ? { certTtlSeconds: join.certTtlSeconds } : {}), log: { info: (s) => log.info(s), warn: (s) => log.warn(s) } });
  try {
    await agent.joinPatiently();
    return agent;
  } catch (e) {
    process.stderr.write(`tsmesh proxy: cannot join the mesh as ${agent.identity}: ${(e as Error).message}\n`);
    return null;
  }
}
