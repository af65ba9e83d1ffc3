/**
 * CPU of one push's generate + serialize (AdsServer's per-push fixed cost) for an endpoint
 * change, whole (`all`) and endpoints-only (`endpoints`, what scopeOfChanges gives for an edit
 * of a ServiceEntry's endpoints), and for a VirtualService change (`routing`) as a reference: in
 * process, on bench:control's real mesh and its two proxy shapes, scopes alternating round by
 * round so that a busy machine slows them alike. Prints process CPU per push (median, min, max);
 * never fails on time.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/control-push-scope.js [--services 500] [--rounds 12] [--capture]
 */
import { parseArgs } from 'node:util';
import { realMesh } from './lib/control-plane/real-mesh.js';
import { buildSnapshot, type Snapshot } from '../src/control/xds/snapshot.js';
import { scopeOfChanges, type ScopedChange } from '../src/control/translate/scope.js';
import type { ResourceScope } from '../src/control/translate/types.js';
import type { ProxyIdentity } from '../src/envoy/node-metadata.js';

const { values } = parseArgs({ options: { services: { type: 'string' }, rounds: { type: 'string' }, capture: { type: 'boolean' } } });
const services = Number(values.services ?? 500);
const rounds = Number(values.rounds ?? 12);
const capture = values.capture === true;
const bench = realMesh(services, { capture });
// The two shapes bench:control's sidecars fall into (app-3 is what the sourceLabels rule selects).
const proxy = (n: number): ProxyIdentity => ({
  id: `sidecar~10.0.0.${n}~app-${n}.default~default.svc.cluster.local`, name: `app-${n}`, namespace: 'default', labels: { app: `app-${n}` },
  serviceAccount: 'default', ips: [`10.0.0.${n}`], generator: 'sidecar', inboundPort: 15006, outboundPort: 15001, appPorts: [8080],
  ...(capture ? { interceptionMode: 'REDIRECT' as const } : {}),
});
const proxies = [proxy(1), proxy(3)];
let snaps: Snapshot[] = proxies.map((p) => buildSnapshot(bench.source.generate(p)));

function push(scope: ResourceScope): number {
  const t = process.cpuUsage();
  snaps = proxies.map((p, i) => (scope === 'all' ? buildSnapshot(bench.source.generate(p), snaps[i]) : buildSnapshot(bench.source.generate(p, scope), snaps[i], scope)));
  const u = process.cpuUsage(t);
  return (u.user + u.system) / 1000;
}

const cases: [string, () => readonly ScopedChange[] | void, ResourceScope | 'scoped'][] = [
  ['endpoint change, whole push (all)', () => bench.changeEndpoint(), 'all'],
  ['endpoint change, endpoints-only push', () => bench.changeEndpoint(), 'scoped'],
  ['route change, routing-only push (reference)', () => bench.changeRoute(), 'scoped'],
];
const cpu = cases.map(() => [] as number[]);
const scopes = cases.map(() => new Set<string>());
for (let r = 0; r < rounds + 2; r++) {
  for (const [i, [, change, how]] of cases.entries()) {
    const changes = change();
    const scope = how === 'scoped' ? scopeOfChanges(changes ?? []) : how;
    scopes[i]!.add(scope);
    const ms = push(scope);
    if (r >= 2) cpu[i]!.push(ms); // the first two rounds warm the JIT up
  }
}

console.log(`tsmesh push scope benchmark: generate + serialize per push for ${proxies.length} proxy shapes, ${services} services, ${capture ? 'captured' : 'loopback (HTTP_PROXY)'} sidecars, ${rounds} rounds (after 2 warm-up rounds), scopes alternating`);
console.log(`command: node dist/bench/control-push-scope.js ${process.argv.slice(2).join(' ')}`.trimEnd());
for (const [i, [title]] of cases.entries()) {
  const xs = cpu[i]!.slice().sort((a, b) => a - b);
  const med = xs[Math.floor(xs.length / 2)]!;
  console.log(`  ${title} [scope ${[...scopes[i]!].join(', ')}]: CPU per push median ${med.toFixed(0)} ms (min ${xs[0]!.toFixed(0)}, max ${xs[xs.length - 1]!.toFixed(0)})`);
}
