/** `tsmesh control` flags → runControl (src/control/main.ts). */
import { parseArgs, one, int, UsageError, type ParsedArgs } from './args.js';
import { parseDurationMs } from '../control/config/duration.js';
import { invalidTrustDomain } from '../pki/spiffe.js';
import { LOG_LEVELS, type LogLevel } from '../control/log.js';
import { WEBHOOK_FLAGS, webhookConfigFrom } from './webhook-flags.js';

export async function runControlCommand(argv: readonly string[]): Promise<number> {
  const a = parseArgs(argv, { values: ['config-dir', 'data-dir', 'xds-port', 'xds-address', 'http-port', 'http-address', 'log-level', 'registry-grace-s', 'dashboard-scrape-s', 'xds-tls-port', 'ca-dir', 'trust-domain', 'workload-cert-ttl', ...WEBHOOK_FLAGS], booleans: ['no-xds-plaintext'] });
  if (a.positional.length) throw new UsageError(`control: unexpected argument ${JSON.stringify(a.positional[0])}`);
  const level = one(a, 'log-level') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new UsageError(`--log-level: expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
  const configDir = one(a, 'config-dir');
  const dataDir = one(a, 'data-dir');
  const httpAddress = one(a, 'http-address');
  const xdsAddress = one(a, 'xds-address');
  const webhook = webhookConfigFrom(a);
  const ca = caOptions(a);
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
    ...ca,
  });
}

/** The CA and TLS-port flags: --xds-tls-port (15012; 'off' for none), --no-xds-plaintext, --ca-dir, --trust-domain, --workload-cert-ttl. */
function caOptions(a: ParsedArgs): { xdsTlsPort?: number; xdsPlaintext: boolean; caDir?: string; trustDomain?: string; workloadCertTtlSeconds?: number } {
  const tls = one(a, 'xds-tls-port');
  const xdsTlsPort = tls === 'off' ? undefined : int(a, 'xds-tls-port', 15012, 0, 65535);
  const xdsPlaintext = !a.flags.has('no-xds-plaintext');
  if (!xdsPlaintext && xdsTlsPort === undefined) throw new UsageError('control: --no-xds-plaintext with --xds-tls-port off leaves no xDS port');
  const caDir = one(a, 'ca-dir');
  if (caDir !== undefined && xdsTlsPort === undefined) throw new UsageError('control: --ca-dir needs the TLS port (--xds-tls-port)');
  const trustDomain = one(a, 'trust-domain');
  const bad = trustDomain === undefined ? undefined : invalidTrustDomain(trustDomain);
  if (bad) throw new UsageError(`--trust-domain: ${bad}`);
  const ttl = one(a, 'workload-cert-ttl');
  const ttlMs = ttl === undefined ? undefined : parseDurationMs(ttl);
  if (ttl !== undefined && (ttlMs === undefined || ttlMs < 1000)) throw new UsageError(`--workload-cert-ttl: expected a duration of at least 1s such as 24h, got ${JSON.stringify(ttl)}`);
  return {
    ...(xdsTlsPort !== undefined ? { xdsTlsPort } : {}),
    xdsPlaintext,
    ...(caDir ? { caDir } : {}),
    ...(trustDomain ? { trustDomain } : {}),
    ...(ttlMs !== undefined ? { workloadCertTtlSeconds: Math.floor(ttlMs / 1000) } : {}),
  };
}
