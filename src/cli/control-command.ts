/** `tsmesh control` flags → runControl (src/control/main.ts). */
import { parseArgs, one, int, UsageError } from './args.js';
import { LOG_LEVELS, type LogLevel } from '../control/log.js';
import { WEBHOOK_FLAGS, webhookConfigFrom } from './webhook-flags.js';

export async function runControlCommand(argv: readonly string[]): Promise<number> {
  const a = parseArgs(argv, { values: ['config-dir', 'data-dir', 'xds-port', 'xds-address', 'http-port', 'http-address', 'log-level', 'registry-grace-s', 'dashboard-scrape-s', ...WEBHOOK_FLAGS], booleans: [] });
  if (a.positional.length) throw new UsageError(`control: unexpected argument ${JSON.stringify(a.positional[0])}`);
  const level = one(a, 'log-level') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new UsageError(`--log-level: expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
  const configDir = one(a, 'config-dir');
  const dataDir = one(a, 'data-dir');
  const httpAddress = one(a, 'http-address');
  const xdsAddress = one(a, 'xds-address');
  const webhook = webhookConfigFrom(a);
  const { runControl } = await import('../control/main.js');
  return runControl({
    ...(configDir ? { configDir } : {}),
    ...(dataDir ? { dataDir } : {}),
    ...(httpAddress ? { httpAddress } : {}),
    ...(xdsAddress ? { xdsAddress } : {}),
    registryGraceMs: int(a, 'registry-grace-s', 10, 0, 86_400) * 1000,
    xdsPort: int(a, 'xds-port', 15010, 0, 65535),
    httpPort: int(a, 'http-port', 15014, 0, 65535),
    logLevel: level as LogLevel,
    ...(webhook ? { webhook } : {}),
    dashboard: { intervalMs: int(a, 'dashboard-scrape-s', 5, 1, 3600) * 1000 },
  });
}
