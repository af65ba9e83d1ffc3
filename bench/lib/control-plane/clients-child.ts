/**
 * The benchmark's simulated sidecars: many ADS streams in one process, each on its own gRPC
 * channel and TCP connection (as separate sidecars would be). Driven by the parent over IPC.
 */
import { parseArgs } from 'node:util';
import { nodeOf } from '../../../src/envoy/node-metadata.js';
import { SimClient, type DecodeMode } from './sim-client.js';
import { serve } from './ipc.js';

const { values } = parseArgs({ options: { port: { type: 'string' }, routes: { type: 'string' }, decode: { type: 'string' }, capture: { type: 'boolean' } } });
const decode: DecodeMode = values.decode === 'full' ? 'full' : 'partial';
const port = Number(values.port);
const routeNames = (values.routes ?? '80').split(',');
const clients: SimClient[] = [];

function connect(kinds: ('sotw' | 'delta')[]): Promise<void> {
  return new Promise((resolve, reject) => {
    let waiting = kinds.length;
    if (waiting === 0) { resolve(); return; }
    const timer = setTimeout(() => reject(new Error(`${waiting} of ${kinds.length} clients not ready after 120 s; first error: ${clients.find((c) => c.error)?.error?.message ?? 'none'}`)), 120_000);
    for (const kind of kinds) {
      const i = clients.length;
      const node = nodeOf({ name: `app-${i}`, namespace: 'default', labels: { app: `app-${i % 500}` }, serviceAccount: 'default', ips: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`], generator: 'sidecar', appPorts: [8080], inboundPort: 15006, outboundPort: 15001, ...(values.capture ? { interceptionMode: 'REDIRECT' as const } : {}) });
      const c = new SimClient(port, kind, node, routeNames, decode);
      c.onReady = () => { if (--waiting === 0) { clearTimeout(timer); resolve(); } };
      clients.push(c);
    }
  });
}

serve(async (req) => {
  switch (req.cmd) {
    case 'connect': {
      const kinds = req['kinds'] as ('sotw' | 'delta')[];
      const batch = Number(req['batch'] ?? 50);
      const t0 = performance.now();
      for (let i = 0; i < kinds.length; i += batch) await connect(kinds.slice(i, i + batch));
      return { connected: clients.length, ms: performance.now() - t0 };
    }
    case 'bytes': {
      const out = { sotw: 0, delta: 0, sotwClients: 0, deltaClients: 0 };
      for (const c of clients) {
        if (c.kind === 'sotw') { out.sotw += c.bytes; out.sotwClients++; } else { out.delta += c.bytes; out.deltaClients++; }
        c.bytes = 0;
      }
      return out;
    }
    case 'close': { for (const c of clients) c.close(); return {}; }
    default: throw new Error(`unknown command ${req.cmd}`);
  }
});
process.send!({ id: 0, started: true });
