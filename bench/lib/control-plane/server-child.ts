/**
 * The benchmark's control plane: an AdsServer in its own process (so /proc shows its CPU time
 * and memory alone) with the source module given by --source. Driven by the parent over IPC.
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { AdsServer } from '../../../src/control/xds/server.js';
import { TYPE_URL, type ResourceScope } from '../../../src/control/translate/types.js';
import { scopeOfChange, scopeOfChanges } from '../../../src/control/translate/scope.js';
import { serve } from './ipc.js';
import type { BenchSidecars, BenchSource } from './synthetic-mesh.js';

const { values } = parseArgs({ options: { source: { type: 'string' }, services: { type: 'string' }, 'quiet-ms': { type: 'string' }, 'max-ms': { type: 'string' }, 'push-concurrency': { type: 'string' }, capture: { type: 'boolean' } } });
const mod = (values.source ? await import(pathToFileURL(resolve(values.source)).href) : await import('./real-mesh.js')) as { createBenchSource(services: number, sidecars?: BenchSidecars): BenchSource | Promise<BenchSource> };
const bench = await mod.createBenchSource(Number(values.services ?? 500), { capture: values.capture === true });
let generateAt = 0;
const source = {
  generate: (p: Parameters<BenchSource['source']['generate']>[0], scope?: ResourceScope) => { if (generateAt === 0) generateAt = performance.now(); return bench.source.generate(p, scope); },
  shapeKey: (p: Parameters<BenchSource['source']['shapeKey']>[0]) => bench.source.shapeKey(p),
};
const server = new AdsServer(source, {
  debounce: { quietMs: Number(values['quiet-ms'] ?? 100), maxDelayMs: Number(values['max-ms'] ?? 1000) },
  pushConcurrency: Number(values['push-concurrency'] ?? 100),
});
const port = await server.listen('127.0.0.1', 0);

serve(async (req) => {
  switch (req.cmd) {
    case 'hello': return { port, routeNames: bench.routeNames };
    case 'gc': {
      (globalThis as { gc?: () => void }).gc?.();
      await new Promise((r) => setTimeout(r, 200));
      return { heapUsed: process.memoryUsage().heapUsed, connected: server.connectedClients };
    }
    case 'counters': return { counters: { ...server.counters }, connected: server.connectedClients };
    case 'change': {
      const type = req['kind'] === 'route' ? TYPE_URL.route : TYPE_URL.endpoint;
      const expect = Number(req['expect']);
      const before = new Map(server.status().map((s) => [s.id, s.types[type]?.sentVersion]));
      const acked = new Map<string, number>();
      const counters0 = { ...server.counters };
      let done!: () => void;
      const all = new Promise<void>((r) => { done = r; });
      const off = server.onAck((id, typeUrl, version, at) => {
        if (typeUrl !== type || acked.has(id) || version === before.get(id)) return;
        acked.set(id, at);
        if (acked.size >= expect) done();
      });
      generateAt = 0;
      const t0 = performance.now();
      const changes = req['kind'] === 'route' ? bench.changeRoute() : bench.changeEndpoint();
      // As MeshXds scopes a store change: a VirtualService edit regenerates listeners and routes
      // only, an edit of a ServiceEntry's endpoints clusters and endpoints only.
      const scope = changes ? scopeOfChanges(changes) : scopeOfChange([req['kind'] === 'route' ? 'VirtualService' : 'ServiceEntry']);
      server.push(`bench: ${String(req['kind'])}`, scope);
      const timeout = new Promise<void>((r) => setTimeout(r, 60_000));
      await Promise.race([all, timeout]);
      off();
      const c = server.counters;
      return {
        times: [...acked.values()].map((t) => t - t0),
        generateAfterMs: generateAt ? generateAt - t0 : -1,
        buildMs: server.lastPush?.buildMs ?? -1,
        shapes: server.lastPush?.shapes ?? 0,
        responses: c.responses - counters0.responses,
        responseBytes: c.responseBytes - counters0.responseBytes,
        pushes: c.pushes - counters0.pushes,
        scope,
        nacks: c.nacks - counters0.nacks,
      };
    }
    case 'exit': {
      await server.close();
      setImmediate(() => process.exit(0)); // after the reply; --cpu-prof writes its profile on exit
      return {};
    }
    default: throw new Error(`unknown command ${req.cmd}`);
  }
});
