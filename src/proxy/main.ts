import type { Worker } from 'node:worker_threads';
import { toBinary } from '@bufbuild/protobuf';
import { loadBootstrapFile, parseBootstrap, type LoadedBootstrap } from '../envoy/bootstrap.js';
import { BootstrapSchema } from '../envoy/generated/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { compileBootstrap } from './config.js';
import { ProxyInstance } from './instance.js';
import { AdminServer } from './admin/admin-server.js';
import type { MetricsPortsOptions } from './admin/metrics-ports.js';
import { createStatsStore, scopesFor } from './stat-scopes.js';
import { log, setLevel } from './log.js';
import { flushAccessLogs } from './access-log.js';
import type { WorkerInit, WorkerMessage, WorkerRequest } from './worker.js';
import type { XdsController } from './xds/controller.js';
import type { ActiveSet } from './xds/state.js';
import { SharedSlots } from './shared/slots.js';
import { finishStartUp, takeDeferredV8Flags, traceStartUpMemory } from './start-up.js';
import { namedTypes } from '../envoy/type-registry.js';

export interface ProxyOptions {
  /** The bootstrap file; with `bootstrap` set, only a name for it in messages. */
  bootstrapPath: string;
  /** A bootstrap built in memory (a sidecar's, from flags) instead of the file. */
  bootstrap?: LoadedBootstrap;
  /** The bootstrap already read and turned into JSON (src/cli/bootstrap-handoff.ts). */
  bootstrapJson?: string | undefined;
  concurrency: number;
  logLevel: string;
  validateOnly: boolean;
  /** How long SIGTERM waits for open connections to finish before closing them (Envoy's --drain-time-s). */
  drainTimeMs: number;
  /**
   * The workload agent of a sidecar that joined with a token (already holding its first
   * certificate): it serves `default` and `ROOTCA` into the instance's secrets and gives ADS its TLS.
   */
  agent?: import('./agent/workload-agent.js').WorkloadAgent;
  /** The scrape ports (--prometheus-port, --merge-metrics-port); none when undefined. */
  metrics?: MetricsPortsOptions | undefined;
}

/** How long an xDS sidecar waits for its initial fetch before it turns V8's compilers on anyway. */
const JIT_AFTER_XDS_MAX_MS = 15_000;

/**
 * `tsmesh proxy`: one proxy as anyone outside sees it (one admin, one set of stats), serving
 * on `concurrency` threads. With one, the main thread serves; with more, worker threads do,
 * each on its own SO_REUSEPORT socket, and the main thread keeps admin and stats.
 */
export async function runProxy(opts: ProxyOptions): Promise<number> {
  if (!setLevel(opts.logLevel)) throw new Error(`unknown log level ${opts.logLevel}`);
  const deferredV8Flags = takeDeferredV8Flags();
  traceStartUpMemory('modules loaded');
  const { bootstrap, registry, typeNames } = opts.bootstrap ?? (opts.bootstrapJson !== undefined
    ? await parseBootstrap(opts.bootstrapJson, opts.bootstrapPath)
    : await loadBootstrapFile(opts.bootstrapPath));
  traceStartUpMemory('bootstrap decoded');
  const spec = compileBootstrap(bootstrap, registry);
  traceStartUpMemory('bootstrap compiled');
  if (opts.validateOnly) { process.stdout.write(`configuration '${opts.bootstrapPath}' OK\n`); return 0; }
  const store = createStatsStore();
  const scopes = scopesFor(store);
  const slots = SharedSlots.create();
  const loadedAt = Date.now();
  let instance: ProxyInstance | undefined;
  const workers: Worker[] = [];
  const reserved: number[] = [];
  // SO_REUSEPORT sockets go through libc (koffi): loaded only when worker threads serve.
  let reuse: typeof import('./listener/reuseport.js') | undefined;
  let stopping = false;
  let admin: AdminServer | undefined;
  let metricsPorts: { close(): Promise<void> } | undefined;

  let xds: XdsController | undefined;

  const stop = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down');
    xds?.stop();
    opts.agent?.stop();
    await Promise.all([
      instance?.close(),
      ...workers.map((w) => new Promise<void>((r) => { w.once('exit', () => r()); w.postMessage({ type: 'stop' }); })),
    ]);
    instance?.destroyConnections();
    for (const fd of reserved) reuse?.closeFd(fd);
    await admin?.close();
    await metricsPorts?.close();
    await flushAccessLogs();
    exit(code);
  };
  // Draining: listeners close, open connections finish what they carry and close.
  let draining: Promise<void> | undefined;
  const drain = (): Promise<void> => {
    if (draining) return draining;
    log.info('draining listeners');
    admin?.setState('DRAINING');
    // No listener may come or change while the ones there drain.
    xds?.stop();
    draining = Promise.all([
      opts.concurrency === 1 ? instance?.drain() : undefined,
      ...workers.map((w) => new Promise<void>((r) => {
        const on = (m: WorkerMessage): void => { if (m.type === 'drained') { w.off('message', on); r(); } };
        w.on('message', on);
        w.postMessage({ type: 'drain' });
      })),
    ]).then(() => undefined);
    return draining;
  };
  const drainThenStop = async (): Promise<void> => {
    if (stopping) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([drain(), new Promise<void>((r) => { timer = setTimeout(r, opts.drainTimeMs); })]);
    clearTimeout(timer);
    await stop(0);
  };
  // Start-up is over (workers, signal handlers, first log lines, xDS's first resources too):
  // drop its garbage, and give V8's compilers back once the proxy is busy (start-up.ts). Called
  // last, so that no start-up work counts as being busy.
  let started = false;
  const ready = (): void => {
    if (started) return;
    started = true;
    finishStartUp(deferredV8Flags);
    traceStartUpMemory('ready (after GC)');
  };
  let exit: (code: number) => void = () => {};
  const done = new Promise<number>((r) => { exit = r; });

  // With workers, this instance never listens: it is the admin thread's view of clusters
  // (/clusters, DNS state), counting into a private store so the shared stats hold only what
  // the serving workers did. With one thread it is the one that serves.
  instance = new ProxyInstance(spec, opts.concurrency === 1 ? scopes : scopesFor(createStatsStore()), { slots, supervisor: true, sharedScopes: scopes });
  opts.agent?.serveInto(instance.secrets);
  // As Envoy, serve once clusters have warmed: hosts under active health checking had their
  // first check (bounded by the checks' timeouts), so no request meets a not-yet-checked host.
  await instance.clusters.initialized();
  let ports: number[];
  if (opts.concurrency === 1) {
    ports = await instance.listen();
  } else {
    // Fix each listener's port first (port 0 becomes a real one), then every worker binds it.
    const r = reuse = await import('./listener/reuseport.js');
    ports = spec.listeners.map((l) => {
      if (!l.bindToPort) return l.port;
      const { fd, port } = r.bindReusePort(l.address, l.port, false);
      reserved.push(fd);
      return port;
    });
    const { Worker } = await import('node:worker_threads');
    const bytes = toBinary(BootstrapSchema, bootstrap);
    const share = store.share();
    // Secrets set in this thread (the agent's, static ones) reach every worker, now and on change.
    instance.secrets.subscribe(() => { const snapshot = instance!.secrets.snapshot(); for (const w of workers) w.postMessage({ type: 'secrets', snapshot } satisfies WorkerRequest); });
    await Promise.all(Array.from({ length: opts.concurrency }, (_, i) => new Promise<void>((resolve, reject) => {
      const init: WorkerInit = { bootstrap: bytes, typeNames: [...typeNames], stats: share, slots: slots.share(), index: i, ports, logLevel: opts.logLevel, secrets: instance!.secrets.snapshot() };
      const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: init });
      workers.push(w);
      w.on('message', (m: WorkerMessage) => { if (m.type === 'ready') resolve(); });
      w.once('error', (e) => { log.error(`worker ${i}: ${e.stack ?? e.message}`); reject(e); void stop(1); });
    })));
  }
  admin = spec.admin ? new AdminServer(spec, store, instance, loadedAt, () => void stop(0), () => void drain()) : undefined;
  if (admin && spec.admin) await admin.listen(spec.admin.address, spec.admin.port);
  traceStartUpMemory('serving');
  spec.listeners.forEach((l, i) => log.info(`listener ${l.name} ${l.bindToPort ? "on" : "for hand-offs to (not bound)"} ${l.address}:${ports[i]}`));
  if (admin) log.info(`admin on ${admin.address}`);
  if (opts.metrics) {
    try {
      // Loaded only when there is a scrape port to serve (not for a proxy run from a bootstrap file alone).
      const { startMetricsPorts } = await import('./admin/metrics-ports.js');
      metricsPorts = await startMetricsPorts(opts.metrics, store);
    } catch (e) {
      log.error((e as Error).message);
      void stop(1);
      return done;
    }
  }
  if (spec.xds) {
    // Loaded only for a dynamic bootstrap: a static proxy carries no xDS (or gRPC) code.
    const { XdsController } = await import('./xds/controller.js');
    const apply = await dynamicApplier(instance, opts.concurrency === 1 ? undefined : { workers, reuse: reuse! });
    const agent = opts.agent;
    xds = new XdsController(spec, spec.xds, typeNames, store, scopes, apply, agent ? () => agent.channelCredentials() : undefined);
    if (admin) admin.dynamic = { state: xds.state, get registry() { return xds!.registry; } };
    xds.start();
    // As Envoy: LIVE once the initial fetch is done (or its timeout passed).
    const fetched = xds.initialFetch().then(() => { if (!stopping) { admin?.setReady(true); log.info('xds: initial fetch done'); } });
    // The initial fetch (decoding and compiling the first resources) is start-up work too.
    let cap: NodeJS.Timeout | undefined;
    void Promise.race([fetched, new Promise<void>((r) => { cap = setTimeout(r, JIT_AFTER_XDS_MAX_MS).unref(); })])
      .then(() => { clearTimeout(cap); ready(); });
  } else {
    admin?.setReady(true);
  }
  // A second SIGTERM while draining must not fall back to the default (kill): keep the handler.
  process.on('SIGTERM', () => void drainThenStop());
  process.once('SIGINT', () => void stop(0));
  if (!spec.xds) ready();
  return done;
}

/**
 * How accepted xDS updates reach the serving threads. One thread: this instance binds what it
 * adds. Workers: this thread's instance follows as a view (admin), reserves each new listener's
 * SO_REUSEPORT port (so port 0 is fixed once for all), sends every worker the snapshot, and
 * resolves when all have applied it (the ACK waits for that).
 */
async function dynamicApplier(
  instance: ProxyInstance,
  threads: { workers: readonly Worker[]; reuse: typeof import('./listener/reuseport.js') } | undefined,
): Promise<(active: ActiveSet) => Promise<void>> {
  const { InstanceSync } = await import('./xds/sync.js');
  const { snapshotOf } = await import('./xds/snapshot.js');
  if (!threads) {
    const sync = new InstanceSync(instance, { kind: 'self' });
    return (active) => sync.apply(snapshotOf(active, new Map(), true));
  }
  const view = new InstanceSync(instance, { kind: 'none' });
  const reserved = new Map<string, { fd: number; port: number }>();
  let seq = 0;
  return async (active) => {
    for (const l of active.listeners.values()) {
      // bind_to_port: false listeners only take hand-offs: no socket of their own.
      if (reserved.has(l.name) || !l.compiled.bindToPort) continue;
      try {
        reserved.set(l.name, threads.reuse.bindReusePort(l.compiled.address, l.compiled.port, false));
      } catch (e) {
        log.error(`xds: listener ${l.name}: cannot bind ${l.compiled.address}:${l.compiled.port}: ${(e as Error).message}`);
      }
    }
    const gone = [...reserved.keys()].filter((n) => !active.listeners.has(n));
    const ports = new Map([...reserved].map(([n, r]) => [n, r.port]));
    await view.apply(snapshotOf(active, ports, true));
    const snapshot = snapshotOf(active, ports, false);
    const id = ++seq;
    await Promise.all(threads.workers.map((w) => new Promise<void>((resolve) => {
      const on = (m: WorkerMessage): void => { if (m.type === 'xds-applied' && m.seq === id) { w.off('message', on); resolve(); } };
      w.on('message', on);
      w.postMessage({ type: 'xds', seq: id, snapshot, typeNames: namedTypes() } satisfies WorkerRequest);
    })));
    for (const n of gone) { threads.reuse.closeFd(reserved.get(n)!.fd); reserved.delete(n); }
  };
}
