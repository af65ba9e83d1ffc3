import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { parse, parseAllDocuments } from 'yaml';
import { applyPatch, type PatchOp } from '../../../src/control/inject/json-patch.js';
import type { Json, JsonObject } from '../../../src/control/inject/json.js';
import { startControlProcess, tsmesh, type RunningControl } from '../../support/control.js';
import { freePort } from '../../support/net.js';
import { repoRoot } from '../../support/proxy.js';

/*
 * The injection webhook as the API server uses it: `tsmesh control --webhook-port` serving
 * HTTPS, real AdmissionReview v1 documents POSTed with node's https client that verifies the
 * certificate against the caBundle `tsmesh inject webhook-ca` prints, for the Service name the
 * webhook configuration calls. The patch it answers, applied to the pod, must be exactly what
 * `tsmesh inject` (kube-inject) makes of the same pod.
 */
const GOLDEN = join(repoRoot(), 'test/control/inject/golden');
const SERVICE_NAME = 'tsmesh.tsmesh-system.svc';

let dataDir: string;
let control: RunningControl;
let webhookPort: number;
let caPem: string;

async function startControl(): Promise<RunningControl> {
  return startControlProcess({ dataDir, extra: ['--xds-port', String(await freePort()), '--webhook-port', String(webhookPort)] });
}

/** The CA certificate, once the webhook is up (its API route exists from then on). */
async function webhookCa(flags: string[] = []): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await tsmesh(['inject', 'webhook-ca', '--control', control.url, ...flags]);
    if (r.code === 0) return r.stdout;
    if (Date.now() > deadline) throw new Error(`webhook-ca: ${r.stderr}\n${control.stderr()}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tsmesh-webhook-'));
  webhookPort = await freePort();
  control = await startControl();
  caPem = await webhookCa();
});

after(async () => {
  await control?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Answer { status: number; type: string; body: string }

function post(body: string, opts: { method?: string; path?: string; contentType?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port: webhookPort, path: opts.path ?? '/inject', method: opts.method ?? 'POST',
      ca: caPem, servername: SERVICE_NAME, checkServerIdentity: (_host, cert) => (cert.subjectaltname?.includes(`DNS:${SERVICE_NAME}`) ? undefined : new Error(`certificate does not name ${SERVICE_NAME}`)),
      headers: { 'content-type': opts.contentType ?? 'application/json' },
      timeout: 20_000,
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body: text }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end(body);
  });
}

function review(pod: Json, extra: { uid?: string; namespace?: string; kind?: JsonObject; apiVersion?: string } = {}): string {
  return JSON.stringify({
    apiVersion: extra.apiVersion ?? 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: extra.uid ?? '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: extra.kind ?? { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      requestResource: { group: '', version: 'v1', resource: 'pods' },
      namespace: extra.namespace ?? 'default',
      operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: ['system:serviceaccounts'] },
      object: pod,
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    },
  });
}

interface Response { uid: string; allowed: boolean; patchType?: string; patch?: string; status?: { code?: number; message?: string }; warnings?: string[] }

async function admit(pod: Json, extra: Parameters<typeof review>[1] = {}): Promise<Response> {
  const a = await post(review(pod, extra));
  assert.equal(a.status, 200, a.body);
  assert.match(a.type, /^application\/json/);
  const r = JSON.parse(a.body) as { apiVersion: string; kind: string; response: Response };
  assert.equal(r.apiVersion, 'admission.k8s.io/v1');
  assert.equal(r.kind, 'AdmissionReview');
  assert.equal(r.response.uid, extra.uid ?? '705ab4f5-6393-11e8-b7cc-42010a800002');
  return r.response;
}

function patched(pod: Json, r: Response): Json {
  assert.equal(r.allowed, true);
  assert.equal(r.patchType, 'JSONPatch');
  const ops = JSON.parse(Buffer.from(r.patch!, 'base64').toString('utf8')) as PatchOp[];
  assert.ok(Array.isArray(ops) && ops.length > 0);
  return applyPatch(pod, ops);
}

test('the certificate is the caBundle webhook-ca prints, for the webhook Service name', async () => {
  const x = new X509Certificate(caPem);
  assert.match(x.subjectAltName ?? '', new RegExp(`DNS:${SERVICE_NAME.replace(/\./g, '\\.')}`));
  assert.equal((await webhookCa(['--base64'])).trim(), Buffer.from(caPem).toString('base64'));
});

test('the webhook patches a pod exactly as kube-inject does (golden Pod with overrides)', async () => {
  const pod = parse(readFileSync(join(GOLDEN, 'pod.input.yaml'), 'utf8')) as Json;
  const kubeInject = parse(readFileSync(join(GOLDEN, 'pod.output.yaml'), 'utf8')) as Json;
  assert.deepEqual(patched(pod, await admit(pod)), kubeInject);
});

test('a pod as a ReplicaSet creates it (generateName, no namespace, no annotations) gets what tsmesh inject makes of it', async () => {
  const deployment = parseAllDocuments(readFileSync(join(GOLDEN, 'deployment.input.yaml'), 'utf8'))[1]!.toJS() as { spec: { template: { metadata: JsonObject; spec: JsonObject } } };
  const pod: JsonObject = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { generateName: 'reviews-v1-5d7f8c9b4-', ...deployment.spec.template.metadata, labels: { ...(deployment.spec.template.metadata['labels'] as JsonObject), 'pod-template-hash': '5d7f8c9b4' } },
    spec: deployment.spec.template.spec,
  };
  const cli = await tsmesh(['inject', '-f', '-'], JSON.stringify(pod));
  assert.equal(cli.code, 0, cli.stderr);
  assert.deepEqual(patched(pod, await admit(pod, { namespace: 'shop', uid: 'u-2' })), parse(cli.stdout) as Json);
});

test('pods that are not to be injected are allowed unchanged', async () => {
  const base = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: 'x' }] } };
  const rows: [string, Json, string | undefined][] = [
    ['opt-out label', { ...base, metadata: { name: 'p', labels: { 'sidecar.tsmesh.io/inject': 'false' } } }, undefined],
    ['Istio opt-out annotation', { ...base, metadata: { name: 'p', annotations: { 'sidecar.istio.io/inject': 'false' } } }, undefined],
    ['kube-system', base, 'kube-system'],
    ['host network', { ...base, spec: { ...base.spec, hostNetwork: true } }, undefined],
  ];
  for (const [name, pod, ns] of rows) {
    const r = await admit(pod, ns ? { namespace: ns } : {});
    assert.deepEqual(r, { uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true }, name);
  }
  const once = patched(base, await admit(base));
  assert.deepEqual(await admit(once), { uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true }, 'an injected pod is not injected again');
  assert.deepEqual(await admit({ apiVersion: 'apps/v1', kind: 'Deployment' }, { kind: { group: 'apps', version: 'v1', kind: 'Deployment' } }), { uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true }, 'not a pod');
});

test('a value that is neither true nor false is a warning the user sees', async () => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { 'sidecar.tsmesh.io/inject': 'sometimes' } }, spec: { containers: [{ name: 'a', image: 'x' }] } };
  const r = await admit(pod);
  assert.equal(r.patchType, 'JSONPatch');
  assert.deepEqual(r.warnings, ['label sidecar.tsmesh.io/inject: "sometimes" is neither "true" nor "false"; ignored']);
});

test('a pod that cannot be injected is refused with the field and the reason', async () => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', annotations: { 'sidecar.tsmesh.io/proxyMemory': 'plenty' } }, spec: { containers: [{ name: 'a', image: 'x' }] } };
  const r = await admit(pod);
  assert.equal(r.allowed, false);
  assert.equal(r.patch, undefined);
  assert.equal(r.status?.code, 400);
  assert.equal(r.status?.message, 'tsmesh sidecar injection: metadata.annotations["sidecar.tsmesh.io/proxyMemory"]: "plenty": expected a Kubernetes quantity such as 100m, 0.5, 128Mi');
});

test('malformed requests get an HTTP error with the reason, and the server keeps serving', async () => {
  const rows: [string, Promise<Answer>, number, RegExp][] = [
    ['not JSON', post('{"apiVersion": "admission.k8s.io/v1", '), 400, /^could not decode body: /],
    ['empty', post(''), 400, /^no body found/],
    ['wrong content type', post(review({}), { contentType: 'application/yaml' }), 415, /want application\/json/],
    ['v1beta1', post(review({}, { apiVersion: 'admission.k8s.io/v1beta1' })), 400, /^apiVersion: expected "admission.k8s.io\/v1"/],
    ['not a review', post('{"kind":"Pod"}'), 400, /^kind: expected "AdmissionReview", got "Pod"/],
    ['no uid', post('{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"kind":{"kind":"Pod"}}}'), 400, /^request\.uid: missing/],
    ['no object', post('{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"group":"","version":"v1","kind":"Pod"}}}'), 400, /^request\.object: missing/],
    ['GET', post('', { method: 'GET' }), 405, /POST an AdmissionReview/],
    ['other path', post(review({}), { path: '/mutate' }), 404, /POST \/inject/],
  ];
  for (const [name, p, status, body] of rows) {
    const a = await p;
    assert.equal(a.status, status, `${name}: ${a.body}`);
    assert.match(a.body, body, name);
  }
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: 'x' }] } };
  assert.equal((await admit(pod)).allowed, true);
});

test('the certificate is kept in the data dir: after a restart the caBundle is still valid', async () => {
  await control.stop();
  control = await startControl();
  assert.equal(await webhookCa(), caPem);
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: 'x' }] } };
  assert.equal((await admit(pod)).patchType, 'JSONPatch');
});

test('a given key pair is served, and webhook-ca says when the webhook is off', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsmesh-webhook-cert-'));
  let other: RunningControl | undefined;
  let off: RunningControl | undefined;
  try {
    const { execFileSync } = await import('node:child_process');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'),
      '-days', '2', '-subj', '/CN=given', '-addext', `subjectAltName=DNS:${SERVICE_NAME}`], { stdio: 'ignore' });
    const port = await freePort();
    other = await startControlProcess({ dataDir: join(dir, 'data'), extra: ['--xds-port', String(await freePort()), '--webhook-port', String(port), '--webhook-cert', join(dir, 'c.pem'), '--webhook-key', join(dir, 'k.pem')] });
    const pem = readFileSync(join(dir, 'c.pem'), 'utf8');
    const deadline = Date.now() + 30_000;
    let served = '';
    while (served !== pem && Date.now() < deadline) {
      const r = await tsmesh(['inject', 'webhook-ca', '--control', other.url]);
      served = r.stdout;
      if (served !== pem) await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(served, pem);
    const peer = await new Promise<string>((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port, path: '/inject', method: 'GET', ca: pem, servername: SERVICE_NAME }, (res) => {
        resolve((res.socket as import('node:tls').TLSSocket).getPeerX509Certificate()!.subject);
        res.resume();
      });
      req.on('error', reject);
      req.end();
    });
    assert.match(peer, /CN=given/);
    off = await startControlProcess({ dataDir: join(dir, 'data-off'), extra: ['--xds-port', String(await freePort())] });
    const r = await tsmesh(['inject', 'webhook-ca', '--control', off.url]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no such endpoint: \/api\/v1\/inject\/webhook-ca \(is the control plane running with --webhook-port\?\)/);
  } finally {
    await other?.stop();
    await off?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
