import { parentPort, workerData } from 'node:worker_threads';
import { fromBinary } from '@bufbuild/protobuf';
import { BootstrapSchema } from '../envoy/generated/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { loadTypeHandlers, registryFor } from '../envoy/type-registry.js';
import { compileBootstrap } from './config.js';
import { ProxyInstance } from './instance.js';
import { attachStatsStore, scopesFor, type StatsShare } from './stat-scopes.js';
import { bindReusePort } from './listener/reuseport.js';
import { log, setLevel } from './log.js';
import { SharedSlots, type SlotsShare } from './shared/slots.js';
import { flushAccessLogs } from './access-log.js';
import type { DynamicSnapshot } from './xds/snapshot.js';
import type { InstanceSync } from './xds/sync.js';
import { collectStartUpGarbage } from './start-up.js';
import type { SecretsSnapshot } from './tls/secret-store.js';

export interface WorkerInit {
  bootstrap: Uint8Array;
  /** The `Any` types the bootstrap names: the worker loads the same registry. */
  typeNames: readonly string[];
  stats: StatsShare;
  slots: SlotsShare;
  index: number;
  ports: number[];
  logLevel: string;
  /** The main thread's secrets when the worker started; changes follow as 'secrets' messages. */
  secrets: SecretsSnapshot;
}

export type WorkerMessage = { type: 'ready' } | { type: 'drained' } | { type: 'xds-applied'; seq: number };

/** What the main thread sends a worker. */
export type WorkerRequest = { type: 'drain' } | { type: 'stop' } | { type: 'xds'; seq: number; snapshot: DynamicSnapshot; typeNames: readonly string[] } | { type: 'secrets'; snapshot: SecretsSnapshot };

/** A serving thread: builds the same config as the main thread and serves on its own sockets. */
async function start(init: WorkerInit): Promise<void> {
  setLevel(init.logLevel);
  const registry = await registryFor(init.typeNames);
  const spec = compileBootstrap(fromBinary(BootstrapSchema, init.bootstrap), registry);
  const store = attachStatsStore(init.stats);
  const scopes = scopesFor(store);
  const instance = new ProxyInstance(spec, scopes, { slots: SharedSlots.attach(init.slots), supervisor: false, sharedScopes: scopes });
  instance.secrets.load(init.secrets);
  // Before listening: a listener warming on a secret binds when the secret arrives here.
  parentPort!.on('message', (m: WorkerRequest) => { if (m.type === 'secrets') instance.secrets.load(m.snapshot); });
  const fds = spec.listeners.map((l, i) => (l.bindToPort ? bindReusePort(l.address, init.ports[i]!, true).fd : undefined));
  await instance.listen(fds);
  // xDS snapshots apply one after another, in the order sent.
  let sync: InstanceSync | undefined;
  let applying: Promise<void> = Promise.resolve();
  parentPort!.on('message', (m: WorkerRequest) => {
    if (m.type === 'xds') {
      applying = applying.then(async () => {
        if (!sync) {
          const { InstanceSync } = await import('./xds/sync.js');
          sync = new InstanceSync(instance, { kind: 'reuseport', bindReusePort: (address, port) => bindReusePort(address, port, true).fd });
        }
        try {
          // Code that loads on first use (filters, loggers, tracing) for types the update names.
          await loadTypeHandlers(m.typeNames);
          await sync.apply(m.snapshot);
        } catch (e) {
          log.error(`worker ${init.index}: applying xDS update: ${(e as Error).stack ?? String(e)}`);
        }
        parentPort!.postMessage({ type: 'xds-applied', seq: m.seq } satisfies WorkerMessage);
      });
      return;
    }
    if (m.type === 'drain') {
      void instance.drain().then(() => parentPort!.postMessage({ type: 'drained' } satisfies WorkerMessage));
      return;
    }
    if (m.type !== 'stop') return;
    void instance.close().then(async () => {
      instance.destroyConnections();
      await flushAccessLogs();
      process.exit(0);
    });
  });
  collectStartUpGarbage();
  parentPort!.postMessage({ type: 'ready' } satisfies WorkerMessage);
}

void start(workerData as WorkerInit);
