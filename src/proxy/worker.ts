import { parentPort, workerData } from 'node:worker_threads';
import { fromBinary } from '@bufbuild/protobuf';
import { BootstrapSchema } from '../envoy/generated/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { registryFor } from '../envoy/type-registry.js';
import { compileBootstrap } from './config.js';
import { ProxyInstance } from './instance.js';
import { attachStatsStore, scopesFor, type StatsShare } from './stat-scopes.js';
import { bindReusePort } from './listener/reuseport.js';
import { setLevel } from './log.js';
import { SharedSlots, type SlotsShare } from './shared/slots.js';
import { flushAccessLogs } from './access-log.js';
import { collectStartUpGarbage } from './start-up.js';

export interface WorkerInit {
  bootstrap: Uint8Array;
  /** The `Any` types the bootstrap names: the worker loads the same registry. */
  typeNames: readonly string[];
  stats: StatsShare;
  slots: SlotsShare;
  index: number;
  ports: number[];
  logLevel: string;
}

export type WorkerMessage = { type: 'ready' } | { type: 'drained' };

/** A serving thread: builds the same config as the main thread and serves on its own sockets. */
async function start(init: WorkerInit): Promise<void> {
  setLevel(init.logLevel);
  const registry = await registryFor(init.typeNames);
  const spec = compileBootstrap(fromBinary(BootstrapSchema, init.bootstrap), registry);
  const store = attachStatsStore(init.stats);
  const scopes = scopesFor(store);
  const instance = new ProxyInstance(spec, scopes, { slots: SharedSlots.attach(init.slots), supervisor: false, sharedScopes: scopes });
  const fds = spec.listeners.map((l, i) => bindReusePort(l.address, init.ports[i]!, true).fd);
  await instance.listen(fds);
  parentPort!.on('message', (m: { type: string }) => {
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
