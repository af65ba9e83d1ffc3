/**
 * Control-plane scale benchmark: N simulated sidecars (half SotW, half Delta by default) on one
 * ADS server running in its own process, serving a mesh of S services.
 *
 *   npm run bench:control -- [--clients 1000] [--services 500] [--delta-share 0.5] [--changes 5]
 *                            [--source MODULE] [--quiet-ms 100] [--max-ms 1000]
 *                            [--push-concurrency 100] [--decode partial|full] [--pin]
 *                            [--server-node-flags="--cpu-prof ..."] [--capture]
 *
 * --decode: how the simulated clients read responses. 'partial' (default) reads version, nonce,
 * type URL and names off the wire and steps over the resources' bytes: in production the
 * sidecars run on other machines, so the load generator should take as little of this machine's
 * CPU from the server as it can. 'full' decodes every response with the generated schema.
 *
 * --pin: the server on CPU 0 and the clients on CPU 1 (taskset), so the two do not take each
 * other's CPU; other processes on the machine still can (reported). Off by default: on a shared
 * machine it also keeps the server off a CPU that happens to be idle.
 *
 * --capture: the sidecars have traffic capture (node metadata INTERCEPTION_MODE REDIRECT, as the
 * Kubernetes injection configures them): their routes are the per-port route configurations
 * ("80", "9080", ...). Without it (the default) they are loopback sidecars used as HTTP_PROXY,
 * which get `http_proxy` (a virtual host per service and port) as well.
 *
 * --source: a module exporting `createBenchSource(services): BenchSource`: the ResourceSource
 * under test and how to change one route and one endpoint in it. Default: the real translation
 * (bench/lib/control-plane/real-mesh.ts: ServiceEntries, DestinationRules, VirtualServices →
 * buildMesh → generate, as `tsmesh control` serves); dist/bench/lib/control-plane/synthetic-mesh.js
 * is a fixed hand-made resource set.
 * Prints, for a change to one route (RDS) and to one endpoint (EDS): the time from push() until
 * each client ACKed the new version (p50/p99/max over clients; push() is debounced, so the time
 * includes the quiet period), server CPU seconds per push (/proc/PID/stat), bytes received per
 * client by stream kind; and server memory per connected client (VmRSS delta / clients, after
 * GC). The clients run on the same machine and compete with the server for its CPUs.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import { readFileSync } from 'node:fs';
import { request } from './lib/control-plane/ipc.js';
import { treeCpuSeconds, otherCpuWindow, parseVmRssKb, pinTree } from './lib/proc.js';
import { percentiles } from './lib/stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    clients: { type: 'string' }, services: { type: 'string' }, 'delta-share': { type: 'string' }, changes: { type: 'string' },
    source: { type: 'string' }, 'quiet-ms': { type: 'string' }, 'max-ms': { type: 'string' }, 'server-node-flags': { type: 'string' },
    'push-concurrency': { type: 'string' }, decode: { type: 'string' },
    pin: { type: 'boolean' }, capture: { type: 'boolean' },
  },
});
const N = Number(values.clients ?? 1000);
const services = Number(values.services ?? 500);
const deltaShare = Number(values['delta-share'] ?? 0.5);
const changes = Number(values.changes ?? 5);
const nDelta = Math.round(N * deltaShare);
const kinds: ('sotw' | 'delta')[] = Array.from({ length: N }, (_, i) => (i % 2 === 1 && i < 2 * nDelta) || i >= N - Math.max(0, 2 * nDelta - N) ? 'delta' : 'sotw');
while (kinds.filter((k) => k === 'delta').length > nDelta) kinds[kinds.lastIndexOf('delta')] = 'sotw';
while (kinds.filter((k) => k === 'delta').length < nDelta) kinds[kinds.indexOf('sotw')] = 'delta';

const children: ChildProcess[] = [];
const kill = (): void => { for (const c of children) if (c.exitCode === null) c.kill('SIGKILL'); };
process.on('exit', kill);
process.on('SIGINT', () => { kill(); process.exit(130); });
const deadline = setTimeout(() => { console.error('benchmark exceeded 15 minutes: stopping'); kill(); process.exit(1); }, 15 * 60_000);

function start(script: string, args: string[], execArgv: string[] = []): Promise<ChildProcess> {
  const child = fork(join(here, 'lib/control-plane', script), args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.push(child);
  child.on('exit', (code, sig) => { if (code !== 0 && code !== null || sig && sig !== 'SIGKILL') console.error(`${script} exited: ${code ?? sig}`); });
  return Promise.resolve(child);
}
const rssMiB = (pid: number): number => parseVmRssKb(readFileSync(`/proc/${pid}/status`, 'utf8')) / 1024;
const fmt = (x: number, d = 1): string => x.toFixed(d);

const serverArgs = ['--services', String(services), '--quiet-ms', values['quiet-ms'] ?? '100', '--max-ms', values['max-ms'] ?? '1000', '--push-concurrency', values['push-concurrency'] ?? '100', ...(values.source ? ['--source', values.source] : []), ...(values.capture ? ['--capture'] : [])];
const server = await start('server-child.js', serverArgs, ['--expose-gc', ...(values['server-node-flags'] ?? '').split(' ').filter(Boolean)]);
const { port, routeNames } = await request<{ port: number; routeNames: string[] }>(server, 'hello');
const pin = values.pin === true && cpus().length >= 2;
if (pin) pinTree(server.pid!, '0');
await request(server, 'gc');
const rss0 = rssMiB(server.pid!);

const decode = values.decode === 'full' ? 'full' : 'partial';
const clients = await start('clients-child.js', ['--port', String(port), '--routes', routeNames.join(','), '--decode', decode, ...(values.capture ? ['--capture'] : [])], ['--max-old-space-size=4096']);
await new Promise<void>((r) => clients.once('message', () => r()));
if (pin) pinTree(clients.pid!, '1');
await request(clients, 'connect', { kinds: kinds.slice(0, 1) });
const gc1 = await request<{ heapUsed: number }>(server, 'gc');
const rss1 = rssMiB(server.pid!);
const connect = await request<{ ms: number }>(clients, 'connect', { kinds: kinds.slice(1), batch: 50 }, 300_000);
await new Promise((r) => setTimeout(r, 1000));
const gcN = await request<{ heapUsed: number; connected: number }>(server, 'gc');
const rssN = rssMiB(server.pid!);

interface ChangeResult { times: number[]; generateAfterMs: number; buildMs: number; shapes: number; responses: number; responseBytes: number; pushes: number; nacks: number; scope: string }
async function measure(kind: 'route' | 'endpoint') {
  const runs: { r: ChangeResult; cpu: number; clientCpu: number; bytes: { sotw: number; delta: number; sotwClients: number; deltaClients: number } }[] = [];
  for (let i = 0; i < changes; i++) {
    await request(clients, 'bytes');
    const cpu0 = treeCpuSeconds(server.pid!);
    const ccpu0 = treeCpuSeconds(clients.pid!);
    const r = await request<ChangeResult>(server, 'change', { kind, expect: N });
    const cpu = treeCpuSeconds(server.pid!) - cpu0;
    const clientCpu = treeCpuSeconds(clients.pid!) - ccpu0;
    await new Promise((res) => setTimeout(res, 300)); // late bytes of this change still arrive
    const bytes = await request<{ sotw: number; delta: number; sotwClients: number; deltaClients: number }>(clients, 'bytes');
    runs.push({ r, cpu, clientCpu, bytes });
    await new Promise((res) => setTimeout(res, 500));
  }
  return runs;
}

const otherCpu = otherCpuWindow(process.pid);
const route = await measure('route');
const endpoint = await measure('endpoint');
const other = otherCpu(); // processes outside this benchmark's tree (server and clients are in it)
const hwmMiB = Number(/^VmHWM:\s+(\d+)/m.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
await request(clients, 'close');
const counters = await request<{ counters: Record<string, number> }>(server, 'counters');
clearTimeout(deadline);
await request(server, 'exit');
await new Promise((r) => { if (server.exitCode !== null) r(null); else { server.once('exit', r); setTimeout(r, 10_000); } });
kill();

const SCOPES: Record<string, string> = {
  all: 'everything regenerated',
  routing: 'listeners and routes regenerated, clusters and endpoints kept',
  endpoints: 'clusters and endpoints regenerated, listeners and routes kept',
};

function report(title: string, runs: Awaited<ReturnType<typeof measure>>): void {
  const all = runs.flatMap((x) => x.r.times);
  const converged = runs.map((x) => x.r.times.length);
  const [p50, p99, max] = percentiles(all, [50, 99, 100]);
  const fromPush = runs.map((x) => x.r.generateAfterMs);
  const perRunMax = runs.map((x) => Math.max(...x.r.times));
  console.log(`\n${title} (${runs.length} changes, ${N} clients each)`);
  console.log(`  converged (ACKed the new version): ${converged.join(', ')} of ${N}`);
  console.log(`  push() -> ACK, over all clients and changes: p50 ${fmt(p50!)} ms, p99 ${fmt(p99!)} ms, max ${fmt(max!)} ms`);
  console.log(`  per change, last client ACKed after: ${perRunMax.map((x) => fmt(x, 0)).join(', ')} ms (debounce ran generate() ${fromPush.map((x) => fmt(x, 0)).join(', ')} ms after push())`);
  console.log(`  generate + serialize per push (all shapes): ${runs.map((x) => fmt(x.r.buildMs, 0)).join(', ')} ms for ${runs[0]!.r.shapes} shape(s); push scope ${[...new Set(runs.map((x) => x.r.scope))].join(', ')} (${SCOPES[runs[0]!.r.scope] ?? '?'})`);
  console.log(`  push -> last ACK minus debounce: ${runs.map((x) => fmt(Math.max(...x.r.times) - x.r.generateAfterMs, 0)).join(', ')} ms`);
  console.log(`  server CPU per push (push to last ACK, incl. handling ACKs): ${runs.map((x) => fmt(x.cpu * 1000, 0)).join(', ')} ms`);
  console.log(`  simulated clients' CPU in the same window (one process): ${runs.map((x) => fmt(x.clientCpu * 1000, 0)).join(', ')} ms`);
  console.log(`  responses per push ${runs[0]!.r.responses}, server bytes per push ${fmt(runs[0]!.r.responseBytes / 1024, 0)} KiB, pushes ${runs.map((x) => x.r.pushes).join(',')}, NACKs ${runs.reduce((s, x) => s + x.r.nacks, 0)}`);
  const b = runs[runs.length - 1]!.bytes;
  if (b.sotwClients) console.log(`  bytes received per SotW client: ${fmt(b.sotw / b.sotwClients, 0)}`);
  if (b.deltaClients) console.log(`  bytes received per Delta client: ${fmt(b.delta / b.deltaClients, 0)}`);
}

console.log(`tsmesh control-plane benchmark: ${N} ADS clients (${N - nDelta} SotW, ${nDelta} Delta), ${services} services, source ${values.source ?? 'real translation (bench/lib/control-plane/real-mesh.ts)'}`);
console.log(`command: npm run bench:control -- ${process.argv.slice(2).join(' ')}`.trimEnd());
console.log(`machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}; clients: one process, one gRPC channel + TCP connection each, ${decode === 'full' ? 'responses fully decoded' : 'responses read partially (version, nonce, names; resources skipped)'}, ${pin ? 'pinned to CPU 1, server to CPU 0' : 'sharing the CPUs with the server'}; other processes on the machine are not excluded`);
console.log(`sidecars: ${values.capture ? 'traffic capture (INTERCEPTION_MODE REDIRECT, as injected Kubernetes pods): per-port route configurations' : 'no traffic capture (apps call through HTTP_PROXY): http_proxy'}; RDS ${routeNames.join(', ')}`);
console.log(`connect: all ${N} clients connected and ACKed CDS/EDS/LDS/RDS in ${fmt(connect.ms / 1000, 1)} s (batches of 50)`);
console.log(`server memory: VmRSS ${fmt(rss0)} MiB idle, ${fmt(rss1)} MiB with 1 client, ${fmt(rssN)} MiB with ${gcN.connected}; per client (after GC) ${fmt(((rssN - rss1) * 1024) / (N - 1), 1)} KiB RSS, ${fmt((gcN.heapUsed - gc1.heapUsed) / 1024 / (N - 1), 1)} KiB JS heap`);
console.log(`push concurrency (proxies with responses in flight at once): ${values['push-concurrency'] ?? '100'}`);
console.log(`server peak VmRSS (VmHWM) over the run: ${fmt(hwmMiB)} MiB (responses in flight are buffered until their sockets drain)`);
report(`one route change (one VirtualService; RDS ${routeNames.join(', ')})`, route);
report('one endpoint change (EDS, one ClusterLoadAssignment)', endpoint);
console.log(`\nCPU used by other processes on the machine during the changes (not the server, not the clients): ${fmt(other, 0)} % of one CPU`);
console.log(`server counters: ${JSON.stringify(counters.counters)}`);
console.log('targets: all clients converged within 1 s of push(); <= 200 KiB server memory per client');
