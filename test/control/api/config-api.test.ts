import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiServer, ApiError } from '../../../src/control/api/server.js';
import { registerConfigRoutes } from '../../../src/control/api/config-routes.js';
import { ConfigStore } from '../../../src/control/config/store.js';
import { ConfigDirectory } from '../../../src/control/config/store-directory.js';

const SE = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: reviews }
spec: { hosts: [reviews.default.svc.cluster.local], ports: [{ number: 9080, name: http }], resolution: STATIC }
`;
const VS = (weight: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
  - route:
    - { destination: { host: reviews, subset: v1 }, weight: 50 }
    - { destination: { host: reviews, subset: v2 }, weight: ${weight} }
`;

async function start(t: import('node:test').TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'tsmesh-api-'));
  writeFileSync(join(dir, 'broken.yaml'), 'kind: VirtualService\napiVersion: networking.istio.io/v1\nmetadata: { name: broken }\nspec: { hosts: [r], http: [{ route: [] }] }\n');
  writeFileSync(join(dir, 'file-owned.yaml'), 'kind: DestinationRule\napiVersion: networking.istio.io/v1\nmetadata: { name: from-file, namespace: prod }\nspec: { host: reviews.default.svc.cluster.local }\n');
  const store = new ConfigStore();
  const directory = new ConfigDirectory(dir, store, { rescanMs: 60_000 });
  directory.start();
  const api = new ApiServer({ maxBodyBytes: 64 * 1024 });
  registerConfigRoutes(api, { store, directory, version: '9.9.9' });
  // Other parts of the control plane add their own endpoints the same way.
  api.route('GET', '/debug/config_dump', (req) => {
    const proxy = req.query.get('proxy');
    if (!proxy) throw new ApiError(400, 'proxy is required', ['use ?proxy=ID']);
    return { json: { proxy } };
  });
  const { port } = await api.listen(0);
  t.after(async () => { directory.close(); await api.close(); rmSync(dir, { recursive: true, force: true }); });
  const call = async (method: string, path: string, body?: string) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    return { status: res.status, text, json: res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : undefined };
  };
  return { call, store };
}

test('apply: all or nothing, every error in the answer, per-resource results', async (t) => {
  const { call, store } = await start(t);
  const bad = await call('POST', '/api/v1/apply', `${SE}---\n${VS('"abc"')}---\nkind: Nope\n`);
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error, 'validation failed: nothing was stored');
  assert.deepEqual(bad.json.details, [
    'VirtualService default/reviews: spec.http[0].route[1].weight: expected an integer 0-100, got "abc"',
    'request document 3: kind: expected one of ServiceEntry, WorkloadEntry, WorkloadGroup, DestinationRule, VirtualService, MeshConfig, PeerAuthentication, AuthorizationPolicy, RequestAuthentication, got "Nope"',
  ]);
  assert.equal(store.list({ kind: 'ServiceEntry' }).length, 0, 'the valid ServiceEntry was not stored either');

  const ok = await call('POST', '/api/v1/apply', `${SE}---\n${VS('50')}`);
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.json.results, [
    { kind: 'ServiceEntry', namespace: 'default', name: 'reviews', result: 'created' },
    { kind: 'VirtualService', namespace: 'default', name: 'reviews', result: 'created' },
  ]);
  const again = await call('POST', '/api/v1/apply', JSON.stringify([JSON.parse(JSON.stringify(store.get('ServiceEntry', 'default', 'reviews')!.resource))]));
  assert.deepEqual(again.json.results.map((r: { result: string }) => r.result), ['unchanged'], 'what get returns can be applied back');

  const conflict = await call('POST', '/api/v1/apply', 'kind: DestinationRule\napiVersion: networking.istio.io/v1\nmetadata: { name: from-file, namespace: prod }\nspec: { host: other }\n');
  assert.equal(conflict.status, 409);
  assert.deepEqual(conflict.json.details, ['DestinationRule prod/from-file: already defined by file file-owned.yaml of the config directory; change it there']);
  assert.equal((await call('POST', '/api/v1/apply', '# nothing\n')).status, 400);
  const big = await call('POST', '/api/v1/apply', 'x'.repeat(100 * 1024));
  assert.equal(big.status, 413);
});

test('get, delete, analyze, config errors, health, version; unknown paths and methods', async (t) => {
  const { call } = await start(t);
  await call('POST', '/api/v1/apply', `${SE}---\n${VS('50')}`);
  const byPlural = await call('GET', '/api/v1/resources/VIRTUALSERVICES');
  assert.deepEqual(byPlural.json.items.map((r: { metadata: { name: string } }) => r.metadata.name), ['reviews']);
  assert.equal((await call('GET', '/api/v1/resources/destinationrule?namespace=prod')).json.items.length, 1);
  assert.equal((await call('GET', '/api/v1/resources/destinationrule?namespace=default')).json.items.length, 0);
  assert.equal((await call('GET', '/api/v1/resources')).json.items.length, 3);
  const one = await call('GET', '/api/v1/resources/vs/default/reviews');
  assert.equal(one.json.metadata.resourceVersion, '3');
  assert.equal((await call('GET', '/api/v1/resources/vs/default/nope')).status, 404);
  const unknownKind = await call('GET', '/api/v1/resources/gateways');
  assert.equal(unknownKind.status, 404);
  assert.equal(unknownKind.json.error, 'unknown kind "gateways"');

  const analysis = await call('GET', '/api/v1/analyze');
  assert.deepEqual(analysis.json.details, [
    'VirtualService default/reviews: spec.http[0].route[0].destination.subset: subset "v1" is not defined by DestinationRule prod/from-file for host "reviews.default.svc.cluster.local"',
    'VirtualService default/reviews: spec.http[0].route[1].destination.subset: subset "v2" is not defined by DestinationRule prod/from-file for host "reviews.default.svc.cluster.local"',
  ]);
  const errors = await call('GET', '/api/v1/config-errors');
  assert.deepEqual(errors.json.details, ['broken.yaml: VirtualService default/broken: spec.http[0].route: expected at least one destination']);

  assert.equal((await call('DELETE', '/api/v1/resources/destinationrules/prod/from-file')).status, 409, 'a file-owned resource is changed in its file');
  const del = await call('POST', '/api/v1/delete', `${VS('50')}---\nkind: ServiceEntry\nmetadata: { name: ghost }\n`);
  assert.deepEqual(del.json.results.map((r: { name: string; result: string }) => `${r.name} ${r.result}`), ['reviews deleted', 'ghost not found']);
  assert.equal((await call('DELETE', '/api/v1/resources/serviceentry/default/reviews')).status, 200);
  assert.equal((await call('DELETE', '/api/v1/resources/serviceentry/default/reviews')).status, 404);

  assert.equal((await call('GET', '/healthz')).text, 'ok\n');
  assert.equal((await call('GET', '/version')).json.version, '9.9.9');
  const notFound = await call('GET', '/api/v2/whatever');
  assert.deepEqual(notFound.json, { error: 'no such endpoint: /api/v2/whatever', details: [] });
  assert.equal((await call('PUT', '/api/v1/apply')).status, 405);
  assert.deepEqual((await call('GET', '/debug/config_dump')).json, { error: 'proxy is required', details: ['use ?proxy=ID'] });
  assert.deepEqual((await call('GET', '/debug/config_dump?proxy=p1')).json, { proxy: 'p1' });
});
