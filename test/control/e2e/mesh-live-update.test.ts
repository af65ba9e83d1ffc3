import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { REVIEWS_SERVICE_ENTRY, REVIEWS_URL, keepAliveAgent, startMesh, tally, until, viaProxy, type Mesh } from '../../support/running-mesh.js';

/*
 * Live updates with no failed request: four keep-alive clients send requests through two
 * sidecars (SotW and Delta) without pause while VirtualServices and DestinationRules change
 * several times and a new workload joins; not one request may fail, and the routing at the end
 * is the last one applied.
 */


const dr = (subsets: readonly string[], policy = ''): string => `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews${policy}
  subsets:
${subsets.map((s) => `  - { name: ${s}, labels: { version: ${s} } }`).join('\n')}
`;

const vs = (weights: Readonly<Record<string, number>>): string => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
  - route:
${Object.entries(weights).map(([s, w]) => `    - { destination: { host: reviews, subset: ${s} }, weight: ${w} }`).join('\n')}
`;

let mesh: Mesh;
before(async () => {
  mesh = await startMesh({
    configFiles: { 'reviews.yaml': REVIEWS_SERVICE_ENTRY },
    workloads: [
      { name: 'client-sotw', labels: { app: 'client' }, xdsApi: 'sotw', noApp: true },
      { name: 'client-delta', labels: { app: 'client' }, xdsApi: 'delta', noApp: true },
      { name: 'reviews-v1', labels: { app: 'reviews', version: 'v1' }, xdsApi: 'sotw' },
      { name: 'reviews-v2', labels: { app: 'reviews', version: 'v2' }, xdsApi: 'delta' },
    ],
  });
});
after(async () => { await mesh?.close(); });

test('VirtualService and DestinationRule changes and a joining workload under steady load: zero failed requests', async (t) => {
  await mesh.apply(dr(['v1', 'v2']) + '---' + vs({ v1: 100 }));
  const clients = ['client-sotw', 'client-delta'].map((n) => mesh.workloads.get(n)!.outboundPort);
  for (const port of clients) {
    await until(async () => (await tally(port, `${REVIEWS_URL}/`, 10))['reviews-v1'] === 10 || undefined, 20_000, () => 'all-v1 never took effect');
  }

  // The load: two keep-alive connections per client sidecar, each sending one request after another.
  const failures: string[] = [];
  // The latest answers per client sidecar: each converges on its own, so each is checked alone
  // (mixed, one sidecar's answers could pass a check while the other still routes the old way).
  const recent = new Map<number, string[]>(clients.map((p) => [p, []]));
  let sent = 0;
  let stop = false;
  let phase = 'start';
  const hardStop = Date.now() + 90_000;
  const loops = clients.flatMap((port) => [0, 1].map(async () => {
    const agent = keepAliveAgent(1);
    while (!stop && Date.now() < hardStop) {
      sent++;
      try {
        const r = await viaProxy(port, `${REVIEWS_URL}/load`, { agent });
        if (r.status !== 200 || !r.json) failures.push(`${phase}: HTTP ${r.status} via :${port} ${JSON.stringify(r.headers)} ${r.body.slice(0, 200)}`);
        else { const last = recent.get(port)!; last.push(r.json.name); if (last.length > 40) last.shift(); }
      } catch (e) {
        failures.push(`${phase}: ${(e as Error).message}`);
      }
    }
  }));
  // Waits until each client's latest `n` answers satisfy `ok` (and more requests went out).
  const seen = async (what: string, ok: (last: readonly string[]) => boolean, n = 20): Promise<void> => {
    const from = sent;
    const last = (port: number): string[] => recent.get(port)!.slice(-n);
    await until(async () => (sent > from + 20 && clients.every((p) => last(p).length === n && ok(last(p)))) || undefined, 20_000,
      () => `${what}; recent answers: ${clients.map((p) => `:${p} ${last(p).join(' ')}`).join('; ')}; failures: ${failures.slice(0, 5).join(' | ')}`, 50);
  };

  try {
    phase = 'vs 50/50'; await mesh.apply(vs({ v1: 50, v2: 50 }));
    await seen('50/50 v1/v2', (l) => l.includes('reviews-v1') && l.includes('reviews-v2'));
    // New subset (no endpoint yet) and a new load-balancing and connection-pool policy: every cluster is replaced.
    phase = 'dr v3 + policy'; await mesh.apply(dr(['v1', 'v2', 'v3'], '\n  trafficPolicy: { loadBalancer: { simple: ROUND_ROBIN }, connectionPool: { http: { maxRequestsPerConnection: 5 } } }'));
    await mesh.waitSynced(['client-sotw', 'client-delta']);
    await seen('the policy change', (l) => l.includes('reviews-v1') && l.includes('reviews-v2'));
    // A workload joins: its endpoint reaches the clients' EDS, then traffic is shifted to it.
    phase = 'v3 joins'; const v3 = await mesh.addWorkload({ name: 'reviews-v3', labels: { app: 'reviews', version: 'v3' }, xdsApi: 'delta' });
    await until(async () => {
      const dumps = await Promise.all(['client-sotw', 'client-delta'].map(async (n) => JSON.stringify(await (await fetch(`${mesh.url}/debug/config_dump?proxy=${encodeURIComponent((await mesh.syncz()).find((e) => e.identity.name === n)!.id)}`)).json())));
      return dumps.every((d) => d.includes(`"portValue":${v3.inboundPort}`)) || undefined;
    }, 20_000, () => 'the new endpoint never reached the clients');
    phase = 'vs v3 80'; await mesh.apply(vs({ v1: 20, v2: 0, v3: 80 }));
    await seen('v3 joined', (l) => l.includes('reviews-v3') && !l.includes('reviews-v2'));
    phase = 'dr without policy'; await mesh.apply(dr(['v1', 'v2', 'v3']));
    phase = 'vs v3 100'; await mesh.apply(vs({ v3: 100 }));
    // 40 in a row on each client: under the 20/80 split before, that happens by chance once in ~7,500.
    await seen('all on v3', (l) => l.every((n) => n === 'reviews-v3'), 40);
  } finally {
    stop = true;
    await Promise.all(loops);
  }
  t.diagnostic(`${sent} requests through 6 changes, ${failures.length} failed`);
  assert.deepEqual(failures, [], `${failures.length} of ${sent} requests failed`);
  assert.ok(sent >= 200, `steady load: ${sent} requests`);
  for (const port of clients) assert.deepEqual(await tally(port, `${REVIEWS_URL}/`, 20), { 'reviews-v3': 20 }, 'the final routing is the last one applied');
});
