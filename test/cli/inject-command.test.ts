import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { tsmesh } from '../support/control.js';
import { repoRoot } from '../support/proxy.js';

// `tsmesh inject` through the real executable: files, stdin, -o, flags, and errors.
const GOLDEN = join(repoRoot(), 'test/control/inject/golden');

test('tsmesh inject -f FILE prints what the golden file holds', async () => {
  const r = await tsmesh(['inject', '-f', join(GOLDEN, 'deployment.input.yaml')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, readFileSync(join(GOLDEN, 'deployment.output.yaml'), 'utf8'));
  assert.equal(r.stderr, '');
});

test('stdin in, -o FILE out; injecting the output again changes nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsmesh-inject-'));
  try {
    const out = join(dir, 'out.yaml');
    const r = await tsmesh(['inject', '-f', '-', '-o', out], readFileSync(join(GOLDEN, 'cronjob.input.yaml'), 'utf8'));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    const once = readFileSync(out, 'utf8');
    assert.equal(once, readFileSync(join(GOLDEN, 'cronjob.output.yaml'), 'utf8'));
    const again = await tsmesh(['inject', '-f', out]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, once);
    assert.match(again.stderr, /CronJob reports\/nightly-report: not injected: already injected \(sidecar\.tsmesh\.io\/status is set\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--image and --xds choose what the sidecar runs and where it connects', async () => {
  const pod = 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: x}]\n';
  const r = await tsmesh(['inject', '-f', '-', '--image', 'registry.local/tsmesh:dev', '--xds', 'tsmesh.mesh.svc:15010'], pod);
  assert.equal(r.code, 0, r.stderr);
  const out = parse(r.stdout) as { spec: { containers: { name: string; image: string; args: string[] }[]; initContainers: { image: string }[] } };
  const proxy = out.spec.containers.find((c) => c.name === 'tsmesh-proxy')!;
  assert.equal(proxy.image, 'registry.local/tsmesh:dev');
  assert.equal(out.spec.initContainers[0]!.image, 'registry.local/tsmesh:dev');
  assert.equal(proxy.args[proxy.args.indexOf('--xds') + 1], 'tsmesh.mesh.svc:15010');
});

test('opt-outs are reported on stderr, the file is copied unchanged', async () => {
  const r = await tsmesh(['inject', '-f', join(GOLDEN, 'opt-out.input.yaml')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, readFileSync(join(GOLDEN, 'opt-out.input.yaml'), 'utf8'));
  assert.match(r.stderr, /Deployment default\/legacy: not injected: annotation sidecar\.istio\.io\/inject="false"/);
});

test('errors: a workload that cannot be injected (exit 1, nothing written), a missing file, usage', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsmesh-inject-'));
  try {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'kind: Service\n---\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers: [{name: web, ports: [{containerPort: 15090}]}]\n');
    const out = join(dir, 'out.yaml');
    const r = await tsmesh(['inject', '-f', bad, '-o', out]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `tsmesh inject: nothing was written: ${bad}: document 2 Deployment default/web: spec.template.spec.containers[0].ports[0].containerPort: 15090 is the sidecar's Prometheus port\n`);
    assert.throws(() => readFileSync(out), /ENOENT/);
    const missing = await tsmesh(['inject', '-f', join(dir, 'nope.yaml')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nope\.yaml: no such file/);
    const usage = await tsmesh(['inject']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /inject: -f FILE\|- is required/);
    const badXds = await tsmesh(['inject', '-f', bad, '--xds', 'no-port']);
    assert.equal(badXds.code, 2);
    assert.match(badXds.stderr, /--xds: expected HOST:PORT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('webhook-ca without a control plane says so', async () => {
  const r = await tsmesh(['inject', 'webhook-ca', '--control', 'http://127.0.0.1:1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /tsmesh inject webhook-ca: cannot reach the control plane at http:\/\/127\.0\.0\.1:1/);
});
