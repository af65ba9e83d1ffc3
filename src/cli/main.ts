import { parseArgs, one, int, UsageError } from './args.js';
import { ConfigError } from '../envoy/registry.js';
import { BootstrapError } from '../proxy/config.js';
import { sidecarOptionsFrom, SIDECAR_VALUE_FLAGS, SIDECAR_BOOLEAN_FLAGS, SIDECAR_USAGE } from './sidecar-flags.js';

const USAGE = `tsmesh — a service mesh in TypeScript

Usage:
  tsmesh proxy -c BOOTSTRAP.yaml [--concurrency N] [--log-level LEVEL] [--drain-time-s S] [--validate]
      Run the data plane from an Envoy v3 bootstrap (YAML or JSON); --validate checks it and exits.
      SIGTERM drains (no new connections, in-flight requests finish) for up to --drain-time-s (5).
${SIDECAR_USAGE}
  tsmesh help
`;

/** Runs a subcommand; resolves to the process exit code (a server resolves when it stops). */
export async function main(argv: readonly string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'proxy': {
        const a = parseArgs(rest, { values: ['config-path', 'concurrency', 'log-level', 'base-id', 'drain-time-s', ...SIDECAR_VALUE_FLAGS], booleans: ['validate', ...SIDECAR_BOOLEAN_FLAGS], short: { c: 'config-path' } });
        const file = one(a, 'config-path');
        const sidecar = sidecarOptionsFrom(a);
        if (!file && !sidecar) throw new UsageError('proxy: -c BOOTSTRAP or --xds HOST:PORT is required');
        const loaded = sidecar ? await (await import('../proxy/sidecar-start.js')).loadSidecarBootstrap(sidecar) : undefined;
        if (loaded && a.flags.has('print-bootstrap')) { process.stdout.write(await (await import('../proxy/sidecar-start.js')).bootstrapYaml(loaded)); return 0; }
        const { runProxy } = await import('../proxy/main.js');
        return await runProxy({ bootstrapPath: file ?? 'sidecar bootstrap (--xds)', ...(loaded ? { bootstrap: loaded } : {}), concurrency: int(a, 'concurrency', 2, 1, 256), logLevel: one(a, 'log-level') ?? 'info', validateOnly: a.flags.has('validate'), drainTimeMs: int(a, 'drain-time-s', 5, 0, 86_400) * 1000 });
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return cmd === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(cmd)}`);
    }
  } catch (e) {
    if (e instanceof UsageError) { process.stderr.write(`tsmesh: ${e.message}\n\n${USAGE}`); return 2; }
    if (e instanceof BootstrapError || e instanceof ConfigError) { process.stderr.write(`tsmesh: invalid configuration:\n${e.message}\n`); return 1; }
    throw e;
  }
}
