import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, unlinkSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import { join } from 'node:path';
import { parse } from 'yaml';
import { startControlProcess, tsmesh, type RunningControl } from '../../support/control.js';
import { repoRoot } from '../../support/proxy.js';
import { freePort } from '../../support/net.js';

const BOOKINFO = join(repoRoot(), 'examples/bookinfo');

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('tsmesh control + CLI: apply, get, delete, analyze; bad input refused with every error; state survives a restart', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tsmesh-e2e-control-'));
  let control: RunningControl | undefined = await startControlProcess({ dataDir });
  t.after(async () => { await control?.stop(); rmSync(dataDir, { recursive: true, force: true }); });
  const c = ['--control', control.url];
  assert.match(control.stdout(), new RegExp(`config dir: ${join(dataDir, 'config')}`), 'the embedded default config dir is DATA_DIR/config');

  const applied = await tsmesh(['apply', '-f', BOOKINFO, ...c]);
  assert.equal(applied.code, 0, applied.stderr);
  assert.equal(applied.stdout.split('\n').filter((l) => l.endsWith(' created')).length, 8, applied.stdout);
  assert.match(applied.stdout, /^VirtualService default\/reviews created$/m);
  assert.match((await tsmesh(['apply', '-f', join(BOOKINFO, 'services.yaml'), ...c])).stdout, /^ServiceEntry default\/reviews unchanged$/m);

  // Invalid input: every error printed in the resource/path/reason shape, exit 1, nothing stored.
  const bad = join(dataDir, 'bad.yaml');
  writeFileSync(bad, `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: extra }
spec: { hosts: [extra.example.com], ports: [{ number: 80, name: http }] }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
  - route:
    - { destination: { host: reviews, subset: v1 }, weight: 50 }
    - { destination: { host: reviews, subset: v2 }, weight: "abc" }
    timeout: soon
`);
  const refused = await tsmesh(['apply', '-f', bad, ...c]);
  assert.equal(refused.code, 1);
  assert.equal(refused.stderr, [
    'invalid configuration, nothing was applied:',
    'VirtualService default/reviews: spec.http[0].route[1].weight: expected an integer 0-100, got "abc"',
    'VirtualService default/reviews: spec.http[0].timeout: expected a duration such as "1s", "100ms" or "1m30s", got "soon"',
    '',
  ].join('\n'));
  const missing = await tsmesh(['get', 'serviceentry', 'extra', ...c]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /ServiceEntry default\/extra not found/);

  const table = await tsmesh(['get', 'vs', ...c]);
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^NAMESPACE\s+NAME\s+GATEWAYS\s+HOSTS\s+AGE$/);
  assert.match(lines[1]!, /^default\s+ratings\s+\["ratings"\]\s+\d+s$/);
  assert.match(lines[2]!, /^default\s+reviews\s+\["reviews"\]\s+\d+s$/);
  const drYaml = await tsmesh(['get', 'DestinationRule', 'reviews', '-o', 'yaml', ...c]);
  assert.deepEqual((parse(drYaml.stdout) as { spec: { subsets: { name: string }[] } }).spec.subsets.map((s) => s.name), ['v1', 'v2', 'v3']);
  const seJson = JSON.parse((await tsmesh(['get', 'se', '-n', 'default', '-o', 'json', ...c])).stdout) as { kind: string; items: unknown[] };
  assert.equal(seJson.kind, 'List');
  assert.equal(seJson.items.length, 4);

  // From stdin: the canary VirtualService replaces all-v1.
  const canary = await tsmesh(['apply', '-f', '-', ...c], readFileSync(join(BOOKINFO, 'reviews-canary.yaml.example'), 'utf8'));
  assert.equal(canary.stdout, 'VirtualService default/reviews configured\n', canary.stderr);

  assert.equal((await tsmesh(['delete', 'vs', 'ratings', ...c])).stdout, 'VirtualService default/ratings deleted\n');
  const again = await tsmesh(['delete', 'vs', 'ratings', ...c]);
  assert.equal(again.code, 1);
  const byFile = await tsmesh(['delete', '-f', join(BOOKINFO, 'destination-rules.yaml'), ...c]);
  assert.equal(byFile.stdout, 'DestinationRule default/reviews deleted\nDestinationRule default/ratings deleted\n');

  // Analysis against the control plane: the canary's subsets now have no DestinationRule.
  const analysis = await tsmesh(['analyze', ...c]);
  assert.equal(analysis.code, 1);
  assert.match(analysis.stdout, /^Error: VirtualService default\/reviews: spec\.http\[1\]\.route\[1\]\.destination\.subset: subset "v3": no DestinationRule for host "reviews\.default\.svc\.cluster\.local"$/m);
  const offline = await tsmesh(['analyze', '-f', BOOKINFO]);
  assert.deepEqual([offline.code, offline.stdout], [0, 'No issues found.\n']);

  // A file dropped into the default config dir is loaded too.
  writeFileSync(join(dataDir, 'config', 'mesh.yaml'), 'apiVersion: tsmesh.io/v1\nkind: MeshConfig\nmetadata: { name: mesh }\nspec: { outboundTrafficPolicy: { mode: REGISTRY_ONLY } }\n');
  await eventually('mesh.yaml loaded', async () => (await fetch(`${control!.url}/api/v1/resources/meshconfig/default/mesh`)).ok);

  assert.equal(await control.stop(), 0, 'SIGTERM stops it cleanly');
  control = await startControlProcess({ dataDir });
  const c2 = ['--control', control.url];
  const after = JSON.parse((await tsmesh(['get', 'virtualservice', 'reviews', '-o', 'json', ...c2])).stdout) as { spec: { http: unknown[] } };
  assert.equal(after.spec.http.length, 2, 'the canary applied before the restart is still there');
  assert.equal((await tsmesh(['get', 'dr', ...c2])).stderr, 'No destinationrules found.\n', 'and what was deleted stays deleted');
  assert.equal(JSON.parse((await tsmesh(['get', 'se', '-o', 'json', ...c2])).stdout).items.length, 4);
});

test('tsmesh control refuses to start, with a message, on a taken port or a config dir holding its data', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tsmesh-e2e-start-'));
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  t.after(() => { blocker.close(); rmSync(dataDir, { recursive: true, force: true }); });
  const port = (blocker.address() as net.AddressInfo).port;
  const taken = await tsmesh(['control', '--data-dir', dataDir, '--http-port', String(port)]);
  assert.equal(taken.code, 1);
  assert.match(taken.stderr, new RegExp(`tsmesh control: cannot listen on 127\\.0\\.0\\.1:${port}: listen EADDRINUSE`));
  const overlap = await tsmesh(['control', '--data-dir', dataDir, '--config-dir', dataDir, '--http-port', '0']);
  assert.equal(overlap.code, 1);
  assert.match(overlap.stderr, /must not contain the data dir's stored resources/);
});

test('the CLI: usage errors exit 2, an unreachable control plane exits 1', async () => {
  for (const args of [['get'], ['apply'], ['get', 'gateways'], ['get', 'vs', '-o', 'wide'], ['delete', 'vs'], ['control', '--http-port', '70000'], ['control', '--log-level', 'loud']]) {
    const r = await tsmesh(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
  }
  const port = await freePort(); // free a moment ago: nothing listens there
  const r = await tsmesh(['get', 'vs', '--control', `http://127.0.0.1:${port}`]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `cannot reach the control plane at http://127.0.0.1:${port}: ECONNREFUSED\n`);
});

test('tsmesh control watches --config-dir: add, modify, break (last good stays), fix, delete', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tsmesh-e2e-data-'));
  const configDir = mkdtempSync(join(tmpdir(), 'tsmesh-e2e-config-'));
  writeFileSync(join(configDir, 'services.yaml'), readFileSync(join(BOOKINFO, 'services.yaml')));
  const control = await startControlProcess({ dataDir, configDir });
  t.after(async () => { await control.stop(); rmSync(dataDir, { recursive: true, force: true }); rmSync(configDir, { recursive: true, force: true }); });
  const get = async (path: string) => fetch(`${control.url}${path}`).then(async (r) => ({ status: r.status, json: await r.json() as Record<string, unknown> }));
  const drHost = async () => { const r = await get('/api/v1/resources/destinationrules/default/reviews'); return r.status === 200 ? (r.json['spec'] as { host: string }).host : undefined; };

  assert.equal(((await get('/api/v1/resources/serviceentries')).json['items'] as unknown[]).length, 4, 'loaded at start');
  const file = join(configDir, 'reviews-dr.yaml');
  const dr = (host: string, extra = '') => `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: reviews }\nspec:\n  host: ${host}\n  subsets: [{ name: v1, labels: { version: v1 } }]${extra}\n`;
  writeFileSync(file, dr('reviews'));
  await eventually('a new file is picked up', async () => (await drHost()) === 'reviews');
  writeFileSync(file, dr('reviews.default.svc.cluster.local'));
  await eventually('a modified file is picked up', async () => (await drHost()) === 'reviews.default.svc.cluster.local');

  writeFileSync(file, dr('reviews', '\n  trafficPolicy: { loadBalancer: { simple: FASTEST } }'));
  await eventually('the broken file is reported', async () => ((await get('/api/v1/config-errors')).json['details'] as string[]).length > 0);
  assert.deepEqual((await get('/api/v1/config-errors')).json['details'], ['reviews-dr.yaml: DestinationRule default/reviews: spec.trafficPolicy.loadBalancer.simple: expected one of UNSPECIFIED, LEAST_CONN, RANDOM, PASSTHROUGH, ROUND_ROBIN, LEAST_REQUEST, got "FASTEST"']);
  assert.equal(await drHost(), 'reviews.default.svc.cluster.local', 'the last good version stays in force');
  assert.match(control.stderr(), /reviews-dr\.yaml skipped/);
  const analysis = await tsmesh(['analyze', '--control', control.url]);
  assert.equal(analysis.code, 1);
  assert.match(analysis.stdout, /^Error: DestinationRule default\/reviews: spec\.trafficPolicy\.loadBalancer\.simple: expected one of .*, got "FASTEST" \(reviews-dr\.yaml\)$/m);
  const viaCli = await tsmesh(['apply', '-f', '-', '--control', control.url], dr('other'));
  assert.equal(viaCli.code, 1, 'the API cannot take over a file-owned resource');
  assert.match(viaCli.stderr, /DestinationRule default\/reviews: already defined by file reviews-dr\.yaml of the config directory; change it there/);

  writeFileSync(file, dr('reviews'));
  await eventually('the fixed file is applied and its error cleared', async () => (await drHost()) === 'reviews' && ((await get('/api/v1/config-errors')).json['details'] as string[]).length === 0);
  unlinkSync(file);
  await eventually('a deleted file removes its resources', async () => (await drHost()) === undefined);
  assert.ok(!existsSync(join(dataDir, 'resources', 'DestinationRule_default_reviews.json')), 'directory resources are not copied into the data dir');
});
