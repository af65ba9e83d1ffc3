import { parseArgs, one, int, UsageError } from './args.js';
import { ConfigError } from '../envoy/registry.js';
import { BootstrapError } from '../proxy/config.js';
import { PROXY_ARGS } from './proxy-args.js';
import { takeHandedOffBootstrap } from './bootstrap-handoff.js';

const USAGE = `tsmesh — a service mesh in TypeScript

Usage:
  tsmesh proxy -c BOOTSTRAP.yaml [--concurrency N] [--log-level LEVEL] [--drain-time-s S] [--validate]
      Run the data plane from an Envoy v3 bootstrap (YAML or JSON); --validate checks it and exits.
      SIGTERM drains (no new connections, in-flight requests finish) for up to --drain-time-s (5).
  tsmesh help
`;

/** Runs a subcommand; resolves to the process exit code (a server resolves when it stops). */
export async function main(argv: readonly string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'proxy': {
        const a = parseArgs(rest, PROXY_ARGS);
        const file = one(a, 'config-path');
        if (!file) throw new UsageError('proxy: -c BOOTSTRAP is required');
        const { runProxy } = await import('../proxy/main.js');
        return await runProxy({ bootstrapPath: file, bootstrapJson: takeHandedOffBootstrap(), concurrency: int(a, 'concurrency', 2, 1, 256), logLevel: one(a, 'log-level') ?? 'info', validateOnly: a.flags.has('validate'), drainTimeMs: int(a, 'drain-time-s', 5, 0, 86_400) * 1000 });
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
