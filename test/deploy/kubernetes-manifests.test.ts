import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '../support/proxy.js';
import { validateObject } from '../support/k8s-schema.js';

/*
 * deploy/kubernetes and what `tsmesh inject` writes, validated against the Kubernetes schema
 * (required fields, types, enums, unknown fields), as `kubectl apply --dry-run=client
 * --validate=strict` would before anything reaches a cluster.
 */
const DEPLOY = join(repoRoot(), 'deploy/kubernetes');
const GOLDEN = join(repoRoot(), 'test/control/inject/golden');

function objectsIn(file: string): unknown[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => {
    assert.deepEqual(d.errors, [], file);
    return d.toJS() as unknown;
  }).filter((o) => o !== null);
}

const manifests = readdirSync(DEPLOY).filter((f) => f.endsWith('.yaml')).sort();

test('deploy/kubernetes has the namespace, RBAC, control plane, Services and webhook', () => {
  const kinds = manifests.flatMap((f) => objectsIn(join(DEPLOY, f)).map((o) => `${(o as { kind: string }).kind}/${(o as { metadata: { name: string } }).metadata.name}`));
  assert.deepEqual(kinds.sort(), [
    'ClusterRole/tsmesh-control', 'ClusterRoleBinding/tsmesh-control', 'Deployment/tsmesh', 'MutatingWebhookConfiguration/tsmesh-sidecar-injector',
    'Namespace/tsmesh-system', 'Service/istiod', 'Service/tsmesh', 'ServiceAccount/tsmesh',
  ]);
});

for (const f of manifests) {
  test(`schema-valid: deploy/kubernetes/${f}`, async () => {
    for (const o of objectsIn(join(DEPLOY, f))) assert.deepEqual(await validateObject(o), [], `${f}: ${(o as { kind: string }).kind}`);
  });
}

for (const f of readdirSync(GOLDEN).filter((x) => x.endsWith('.output.yaml')).sort()) {
  test(`schema-valid: what tsmesh inject wrote (${f})`, async () => {
    for (const o of objectsIn(join(GOLDEN, f))) {
      const items = (o as { kind: string }).kind === 'List' ? (o as { items: unknown[] }).items : [o];
      for (const item of items) assert.deepEqual(await validateObject(item), [], `${f}: ${(item as { kind: string }).kind}`);
    }
  });
}

test('the validator catches what a cluster would refuse', async () => {
  const deployment = objectsIn(join(DEPLOY, '20-control.yaml'))[0] as Record<string, any>;
  const rows: [string, (d: Record<string, any>) => void, RegExp][] = [
    ['a misspelt field', (d) => { d.spec.replica = 2; }, /^spec\.replica: unknown field$/],
    ['a misspelt field deep in a container', (d) => { d.spec.template.spec.containers[0].readinessProbe.httpGet.paht = '/x'; }, /^spec\.template\.spec\.containers\[0\]\.readinessProbe\.httpGet\.paht: unknown field$/],
    ['a missing required field', (d) => { delete d.spec.selector; }, /must have required property selector/],
    ['a wrong type', (d) => { d.spec.template.spec.containers[0].ports[0].containerPort = 'http'; }, /containerPort must be integer/],
    ['an unknown kind', (d) => { d.kind = 'Deploymnet'; }, /unknown apiVersion\/kind apps\/v1 Deploymnet/],
  ];
  for (const [name, change, want] of rows) {
    const d = structuredClone(deployment);
    change(d);
    const issues = await validateObject(d);
    assert.ok(issues.some((i) => want.test(i)), `${name}: ${JSON.stringify(issues)}`);
  }
});
