import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { injectDocuments } from '../../../src/control/inject/documents.js';
import { defaultInjectOptions } from '../../../src/control/inject/options.js';
import { repoRoot } from '../../support/proxy.js';

/*
 * kube-inject golden files: golden/<case>.input.yaml → <case>.output.yaml (what `tsmesh inject`
 * prints). After an intended change regenerate with
 *   UPDATE_GOLDEN=1 node --test dist/test/control/inject/golden.test.js
 * and review the diff like code.
 */
const DIR = join(repoRoot(), 'test/control/inject/golden');
const OPTS = defaultInjectOptions('0.1.0');
const cases = readdirSync(DIR).filter((f) => f.endsWith('.input.yaml')).map((f) => f.slice(0, -'.input.yaml'.length)).sort();

test('there are golden cases', () => assert.ok(cases.length >= 5, cases.join(', ')));

for (const name of cases) {
  const input = readFileSync(join(DIR, `${name}.input.yaml`), 'utf8');
  test(`kube-inject golden: ${name}`, () => {
    const { text } = injectDocuments(input, OPTS, `${name}.input.yaml`);
    const file = join(DIR, `${name}.output.yaml`);
    if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(file, text);
    assert.ok(existsSync(file), `${file} is missing: run with UPDATE_GOLDEN=1`);
    assert.equal(text, readFileSync(file, 'utf8'), `${name}: output differs from ${name}.output.yaml (UPDATE_GOLDEN=1 regenerates it)`);
  });

  test(`kube-inject is idempotent: ${name}`, () => {
    const once = injectDocuments(input, OPTS).text;
    const twice = injectDocuments(once, OPTS);
    assert.equal(twice.text, once);
    assert.ok(twice.workloads.every((w) => !w.injected), 'nothing is injected the second time');
  });

  test(`kube-inject keeps every document that is not a workload, and the count: ${name}`, () => {
    const before = parseAllDocuments(input) as ReturnType<typeof parseAllDocuments> & unknown[];
    const after = parseAllDocuments(injectDocuments(input, OPTS).text) as ReturnType<typeof parseAllDocuments> & unknown[];
    assert.equal(after.length, before.length);
  });
}

test('the opt-out file comes back byte for byte', () => {
  const input = readFileSync(join(DIR, 'opt-out.input.yaml'), 'utf8');
  const r = injectDocuments(input, OPTS);
  assert.equal(r.text, input);
  assert.deepEqual(r.workloads, [
    { workload: 'Deployment default/legacy', injected: false, reason: 'annotation sidecar.istio.io/inject="false"' },
    { workload: 'Deployment default/host-agent', injected: false, reason: 'the pod uses the host network (spec.hostNetwork)' },
    { workload: 'Job kube-system/cleanup', injected: false, reason: 'namespace kube-system is never injected' },
  ]);
});

test('in a List, the ConfigMap item and the opted-out DaemonSet are kept, the StatefulSet injected', () => {
  const input = readFileSync(join(DIR, 'list.input.yaml'), 'utf8');
  const r = injectDocuments(input, OPTS);
  assert.deepEqual(r.workloads.map((w) => [w.workload, w.injected]), [['StatefulSet data/db', true], ['DaemonSet data/node-agent', false]]);
  const out = parseAllDocuments(r.text)[0]!.toJS() as { items: { kind: string; data?: unknown; spec?: { template: { spec: { containers: { name: string }[] } } } }[] };
  assert.deepEqual(out.items[1], { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'db-config', namespace: 'data' }, data: { max_connections: '100' } });
  assert.deepEqual(out.items[0]!.spec!.template.spec.containers.map((c) => c.name), ['db', 'tsmesh-proxy']);
  assert.deepEqual(out.items[2]!.spec!.template.spec.containers.map((c) => c.name), ['agent']);
});

test('comments and untouched documents survive injection', () => {
  const input = readFileSync(join(DIR, 'deployment.input.yaml'), 'utf8');
  const { text } = injectDocuments(input, OPTS);
  const firstDocEnd = input.indexOf('---\n');
  assert.equal(text.slice(0, firstDocEnd), input.slice(0, firstDocEnd), 'the Service document is copied as is');
  assert.match(text, /image: docker\.io\/istio\/examples-bookinfo-reviews-v1:1\.20\.3 # pinned/);
});

test('bad input names the file, the document, the workload and the field; nothing is produced', () => {
  const rows: [string, RegExp][] = [
    ['kind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n', /^x\.yaml: document 1 Pod default\/p: spec\.containers: a pod needs at least one container$/],
    ['---\nkind: Service\n---\nkind: Deployment\nmetadata: {name: d}\nspec: {}\n', /^x\.yaml: document 2 Deployment default\/d: spec\.template: missing: the pod template$/],
    ['kind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    metadata:\n      annotations: {sidecar.tsmesh.io/proxyCPU: lots}\n    spec: {containers: [{name: a}]}\n',
      /^x\.yaml: document 1 Deployment default\/d: spec\.template\.metadata\.annotations\["sidecar\.tsmesh\.io\/proxyCPU"\]: "lots": expected a Kubernetes quantity/],
    ['kind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, ports: [{containerPort: 15006}]}]}\n', /^x\.yaml: document 1 Pod default\/p: spec\.containers\[0\]\.ports\[0\]\.containerPort: 15006 is the sidecar's inbound capture port$/],
    ['kind: Pod\nspec: [unclosed\n', /^x\.yaml: document 1: /],
  ];
  for (const [yaml, want] of rows) assert.throws(() => injectDocuments(yaml, OPTS, 'x.yaml'), (e: Error) => { assert.match(e.message, want); return true; });
});
