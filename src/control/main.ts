/*
 * `tsmesh control`: the control plane process. This file wires the config store (persisted in
 * --data-dir, plus the watched --config-dir) and the HTTP API; the xDS server and the registry
 * attach to the handle startControl returns (handle.store.snapshot(), handle.store.onChange,
 * handle.api.route for their debug endpoints).
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigStore } from './config/store.js';
import { DataDirPersistence } from './config/store-persist.js';
import { ConfigDirectory } from './config/store-directory.js';
import { formatIssue } from './config/issues.js';
import { ApiServer } from './api/server.js';
import { registerConfigRoutes } from './api/config-routes.js';
import { createLogger, LOG_LEVELS, type Logger, type LogLevel } from './log.js';
import { MeshXds } from './mesh-xds.js';
import { startWebhook, type WebhookConfig } from './inject/start-webhook.js';
import { registerDashboard, type DashboardOptions } from './dashboard/routes.js';
import type { MeshCa } from './ca/mesh-ca.js';
import type { ProxyIdentity } from '../envoy/node-metadata.js';

export interface ControlOptions {
  /** The watched directory of mesh config; default `<dataDir>/config`. */
  configDir?: string;
  /** Where applied config is kept across restarts; default a new temp directory (not reused). */
  dataDir?: string;
  xdsPort: number;
  httpPort: number;
  /** Address the HTTP API binds; loopback by default since the API has no authentication yet. */
  httpAddress?: string;
  logLevel?: LogLevel;
  log?: Logger;
  /** Config directory rescan period (fallback for missed fs.watch events). */
  rescanMs?: number;
  /** Address the xDS server binds (default 127.0.0.1; sidecars on other hosts need a routable one). */
  xdsAddress?: string;
  /** How long a disconnected sidecar stays registered (default 10 s). */
  registryGraceMs?: number;
  /** Push debounce (default 100 ms quiet, 1 s at most). */
  debounce?: { quietMs?: number; maxDelayMs?: number };
  /** The sidecar injection webhook (HTTPS); off when undefined. */
  webhook?: WebhookConfig;
  /** How the dashboard scrapes the sidecars (tests shorten the interval). */
  dashboard?: DashboardOptions;
  /** The TLS port serving xDS and certificate signing (Istio's 15012); undefined: no TLS port, no CA. */
  xdsTlsPort?: number;
  /** Serve plaintext xDS on xdsPort (default true); false leaves only the TLS port. */
  xdsPlaintext?: boolean;
  /** A plugged-in CA directory in Istio's cacerts layout; default a self-signed root in DATA_DIR/ca. */
  caDir?: string;
  /** SPIFFE trust domain (default cluster.local). */
  trustDomain?: string;
  /** Lifetime of workload certificates that ask for none (default 24 h). */
  workloadCertTtlSeconds?: number;
}

export interface ControlHandle {
  readonly store: ConfigStore;
  readonly api: ApiServer;
  readonly directory: ConfigDirectory;
  readonly log: Logger;
  readonly dataDir: string;
  readonly configDir: string;
  readonly http: { host: string; port: number };
  /** The bound xDS port (the option may be 0); undefined when plaintext xDS is off. */
  readonly xdsPort: number | undefined;
  /** The bound TLS xDS/CA port, when there is one. */
  readonly xdsTlsPort: number | undefined;
  /** The CA, when the TLS port is on. */
  readonly ca: MeshCa | undefined;
  readonly xds: MeshXds;
  /** The injection webhook's bound port, when it runs. */
  readonly webhookPort?: number;
  /** Runs `fn` on close, before the API stops (e.g. the xDS server's shutdown). */
  onClose(fn: () => Promise<void> | void): void;
  close(): Promise<void>;
}

/** The control plane cannot start as configured (port taken, bad directories): a message for the user. */
export class ControlStartError extends Error {}

export function tsmeshVersion(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json')) && dirname(d) !== d) d = dirname(d);
  try {
    return (JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export async function startControl(opts: ControlOptions): Promise<ControlHandle> {
  const log = opts.log ?? createLogger(opts.logLevel ?? 'info');
  const dataDir = resolve(opts.dataDir ?? mkdtempSync(join(tmpdir(), 'tsmesh-control-')));
  const configDir = resolve(opts.configDir ?? join(dataDir, 'config'));
  const resourcesDir = join(dataDir, 'resources');
  if (resourcesDir === configDir || resourcesDir.startsWith(`${configDir}/`)) throw new ControlStartError(`--config-dir ${configDir} must not contain the data dir's stored resources (${resourcesDir})`);
  const persistence = new DataDirPersistence(dataDir);
  const store = new ConfigStore({ persistence });
  const loaded = persistence.load();
  for (const i of loaded.issues) log.error(`data dir: not loaded: ${formatIssue(i)}`);
  store.restore(loaded.entries, loaded.revision);
  log.info(`data dir ${dataDir}: ${loaded.entries.length} resources restored`);

  const directory = new ConfigDirectory(configDir, store, { log, ...(opts.rescanMs !== undefined ? { rescanMs: opts.rescanMs } : {}) });
  directory.start();
  const api = new ApiServer();
  registerConfigRoutes(api, { store, directory, version: tsmeshVersion() });
  let http: { host: string; port: number };
  try {
    http = await api.listen(opts.httpPort, opts.httpAddress ?? '127.0.0.1');
  } catch (e) {
    directory.close();
    throw new ControlStartError(`cannot listen on ${opts.httpAddress ?? '127.0.0.1'}:${opts.httpPort}: ${(e as Error).message}`);
  }
  const xdsHost = opts.xdsAddress ?? '127.0.0.1';
  let xdsPort: number | undefined;
  let xdsTlsPort: number | undefined;
  let ca: MeshCa | undefined;
  if (opts.xdsTlsPort !== undefined) {
    // Loaded only with a TLS port: the CA's code and key material stay out of a plaintext-only control plane.
    const { MeshCa: Ca, defaultPolicy } = await import('./ca/mesh-ca.js');
    const { CaMaterialError } = await import('./ca/material.js');
    try {
      ca = new Ca({ dataDir, ...(opts.caDir ? { pluggedDir: resolve(opts.caDir) } : {}), trustDomain: opts.trustDomain ?? 'cluster.local', serverNames: [xdsHost], policy: defaultPolicy(opts.workloadCertTtlSeconds), log });
    } catch (e) {
      if (e instanceof CaMaterialError || (e as NodeJS.ErrnoException).code) {
        directory.close();
        await api.close();
        throw new ControlStartError(`CA: ${(e as Error).message}`);
      }
      throw e;
    }
  }
  const meshCa = ca;
  const xds = new MeshXds(store, log, {
    registryFile: join(dataDir, 'registry.json'),
    ...(opts.registryGraceMs !== undefined ? { graceMs: opts.registryGraceMs } : {}),
    ...(opts.debounce ? { debounce: opts.debounce } : {}),
    ...(meshCa ? { authorize: (identity: ProxyIdentity, cert: Uint8Array | undefined) => authorizeNode(meshCa, identity, cert, log) } : {}),
  });
  xds.registerRoutes(api);
  const dashboard = registerDashboard(api, xds, opts.dashboard ?? {});
  const fail = async (message: string): Promise<never> => {
    directory.close();
    await xds.close();
    await api.close();
    throw new ControlStartError(message);
  };
  if (meshCa && opts.xdsTlsPort !== undefined) {
    meshCa.registerRoutes(api);
    xds.addMetrics(() => meshCa.metrics());
    try {
      xdsTlsPort = await xds.listen(xdsHost, opts.xdsTlsPort, { credentials: meshCa.serverCredentials(), configure: (s) => meshCa.addServiceTo(s) });
    } catch (e) {
      return fail(`cannot serve xDS over TLS on ${xdsHost}:${opts.xdsTlsPort}: ${(e as Error).message}`);
    }
  }
  if (opts.xdsPlaintext !== false) {
    try {
      xdsPort = await xds.listen(xdsHost, opts.xdsPort);
    } catch (e) {
      return fail(`cannot serve xDS on ${xdsHost}:${opts.xdsPort}: ${(e as Error).message}`);
    }
  }
  const closers: (() => Promise<void> | void)[] = [() => dashboard.close(), () => xds.close()];
  let webhookPort: number | undefined;
  if (opts.webhook) {
    try {
      const hook = await startWebhook(opts.webhook, { dataDir, log, api, version: tsmeshVersion() });
      closers.push(() => hook.close());
      webhookPort = hook.port;
    } catch (e) {
      directory.close();
      await xds.close();
      await api.close();
      throw new ControlStartError(`injection webhook on ${opts.webhook.address ?? '127.0.0.1'}:${opts.webhook.port}: ${(e as Error).message}`);
    }
  }
  let closing: Promise<void> | undefined;
  return {
    store, api, directory, log, dataDir, configDir, http, xdsPort, xdsTlsPort, ca, xds,
    ...(webhookPort !== undefined ? { webhookPort } : {}),
    onClose: (fn) => { closers.push(fn); },
    close: () => (closing ??= (async () => {
      directory.close();
      for (const fn of closers) await fn();
      await api.close();
    })()),
  };
}

/** The CLI entry: runs until SIGTERM / SIGINT; resolves with the exit code. */
export async function runControl(opts: ControlOptions): Promise<number> {
  if (opts.logLevel && !LOG_LEVELS.includes(opts.logLevel)) throw new Error(`unknown log level ${opts.logLevel}`);
  let control: ControlHandle;
  try {
    control = await startControl(opts);
  } catch (e) {
    if (!(e instanceof ControlStartError) && !(e as NodeJS.ErrnoException).code) throw e;
    process.stderr.write(`tsmesh control: ${(e as Error).message}\n`);
    return 1;
  }
  const host = opts.xdsAddress ?? '127.0.0.1';
  process.stdout.write(`tsmesh control ${tsmeshVersion()}\n${control.xdsPort !== undefined ? `  xds:        grpc://${host}:${control.xdsPort} (ADS, SotW and Delta)\n` : ''}${control.xdsTlsPort !== undefined ? `  xds+ca tls: grpcs://${host}:${control.xdsTlsPort} (ADS and certificate signing; root ${control.ca!.authority.rootHash()})\n` : ''}  api:        http://${control.http.host}:${control.http.port}\n  dashboard:  http://${control.http.host}:${control.http.port}/dashboard\n${control.webhookPort !== undefined ? `  webhook:    https://${opts.webhook?.address ?? '127.0.0.1'}:${control.webhookPort}/inject\n` : ''}  config dir: ${control.configDir}\n  data dir:   ${control.dataDir}\n`);
  return new Promise((resolveExit) => {
    const stop = (sig: string): void => {
      control.log.info(`${sig}: shutting down`);
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      control.close().then(() => resolveExit(0), (e: Error) => { control.log.error(`shutdown: ${e.message}`); resolveExit(1); });
    };
    const onTerm = (): void => stop('SIGTERM');
    const onInt = (): void => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
}

/**
 * A sidecar on the TLS port that presents its workload certificate must be the workload its
 * node metadata claims (NAMESPACE, SERVICE_ACCOUNT); one without a certificate is served as on
 * the plaintext port.
 */
function authorizeNode(ca: MeshCa, identity: ProxyIdentity, cert: Uint8Array | undefined, log: Logger): string | undefined {
  if (!cert) return undefined;
  const id = ca.authority.identityOfClientCert(cert, new Date());
  if (typeof id === 'string') return `${identity.id}: ${id}`;
  if (id.namespace !== identity.namespace || id.serviceAccount !== identity.serviceAccount) {
    return `${identity.id}: the node says namespace ${identity.namespace}, service account ${identity.serviceAccount}, but its certificate is for ${id.namespace}/${id.serviceAccount}`;
  }
  log.info(`xds: ${identity.name}.${identity.namespace} authenticated by its certificate as spiffe://${ca.authority.trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`);
  return undefined;
}
