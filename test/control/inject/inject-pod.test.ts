import { test } from 'node:test';
import assert from 'node:assert/strict';
import { injectPod, type PodLike } from '../../../src/control/inject/inject-pod.js';
import { defaultInjectOptions } from '../../../src/control/inject/options.js';
import type { JsonObject } from '../../../src/control/inject/json.js';

const OPTS = defaultInjectOptions('0.1.0');

function pod(meta: JsonObject = {}, spec: JsonObject = {}): PodLike {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', ...meta }, spec: { containers: [{ name: 'web', image: 'example/web:1', ports: [{ containerPort: 8080 }] }], ...spec } };
}

type Row = [name: string, pod: PodLike, namespace: string | undefined, want: boolean | string, warnings?: RegExp];
const DECISIONS: Row[] = [
  ['no opinion: injected (kube-inject and a namespace the webhook selected)', pod(), 'shop', true],
  ['tsmesh label false', pod({ labels: { 'sidecar.tsmesh.io/inject': 'false' } }), 'shop', 'label sidecar.tsmesh.io/inject="false"'],
  ['tsmesh annotation false', pod({ annotations: { 'sidecar.tsmesh.io/inject': 'false' } }), 'shop', 'annotation sidecar.tsmesh.io/inject="false"'],
  ['Istio label false', pod({ labels: { 'sidecar.istio.io/inject': 'false' } }), 'shop', 'label sidecar.istio.io/inject="false"'],
  ['Istio annotation false', pod({ annotations: { 'sidecar.istio.io/inject': 'false' } }), 'shop', 'annotation sidecar.istio.io/inject="false"'],
  ['tsmesh true beats Istio false', pod({ labels: { 'sidecar.tsmesh.io/inject': 'true', 'sidecar.istio.io/inject': 'false' } }), 'shop', true],
  ['label beats annotation', pod({ labels: { 'sidecar.tsmesh.io/inject': 'true' }, annotations: { 'sidecar.tsmesh.io/inject': 'false' } }), 'shop', true],
  ['Istio spellings: "no"', pod({ annotations: { 'sidecar.istio.io/inject': 'no' } }), 'shop', 'annotation sidecar.istio.io/inject="no"'],
  ['a value that is neither: warned and ignored', pod({ labels: { 'sidecar.tsmesh.io/inject': 'maybe' } }), 'shop', true, /label sidecar\.tsmesh\.io\/inject: "maybe" is neither "true" nor "false"; ignored/],
  ['host network', pod({}, { hostNetwork: true }), 'shop', 'the pod uses the host network (spec.hostNetwork)'],
  ['kube-system', pod(), 'kube-system', 'namespace kube-system is never injected'],
  ['kube-public from the pod\'s own namespace', pod({ namespace: 'kube-public' }), undefined, 'namespace kube-public is never injected'],
  ['already injected', pod({ annotations: { 'sidecar.tsmesh.io/status': '{}' } }), 'shop', 'already injected (sidecar.tsmesh.io/status is set)'],
  ['a tsmesh-proxy container already there', pod({}, { containers: [{ name: 'web' }, { name: 'tsmesh-proxy' }] }), 'shop', 'already has a tsmesh-proxy container'],
];

for (const [name, p, ns, want, warn] of DECISIONS) {
  test(`decision: ${name}`, () => {
    const r = injectPod(p, OPTS, ns);
    if (want === true) assert.equal(r.injected, true, r.injected ? '' : r.reason);
    else assert.deepEqual(r.injected ? 'injected' : r.reason, want);
    if (warn) assert.match(r.warnings.join('\n'), warn);
    else assert.deepEqual(r.warnings, []);
  });
}

function injected(p: PodLike, ns = 'shop'): JsonObject {
  const r = injectPod(p, OPTS, ns);
  assert.ok(r.injected, r.injected ? '' : r.reason);
  return r.pod;
}
const containers = (p: JsonObject, f = 'containers'): JsonObject[] => (p['spec'] as JsonObject)[f] as JsonObject[];
const byName = (p: JsonObject, name: string, f = 'containers'): JsonObject => containers(p, f).find((c) => c['name'] === name)!;
const argAfter = (args: readonly string[], flag: string): string[] => args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));

test('the input is not changed, and the app\'s own fields are kept', () => {
  const p = pod({ labels: { app: 'web' } }, { serviceAccountName: 'web', terminationGracePeriodSeconds: 5 });
  const copy = structuredClone(p);
  const out = injected(p);
  assert.deepEqual(p, copy);
  assert.deepEqual(containers(out)[0], containers(p)[0]);
  assert.equal((out['spec'] as JsonObject)['serviceAccountName'], 'web');
  assert.equal((out['spec'] as JsonObject)['terminationGracePeriodSeconds'], 5);
  assert.deepEqual(containers(out).map((c) => c['name']), ['web', 'tsmesh-proxy']);
  assert.deepEqual(containers(out, 'initContainers').map((c) => c['name']), ['tsmesh-init']);
  assert.deepEqual(((out['spec'] as JsonObject)['volumes'] as JsonObject[]).map((v) => v['name']), ['tsmesh-envoy', 'tsmesh-token']);
});

test('the sidecar: uid 1337, readiness on 15021 /healthz/ready, downward-API identity, labels and app ports as flags', () => {
  const out = injected(pod({ labels: { app: 'web', version: 'v2' } }, { containers: [
    { name: 'web', ports: [{ containerPort: 8080 }, { containerPort: 8443 }, { containerPort: 5353, protocol: 'UDP' }] },
    { name: 'metrics', ports: [{ containerPort: 8080 }, { containerPort: 9102 }] },
  ] }));
  const proxy = byName(out, 'tsmesh-proxy');
  const args = proxy['args'] as string[];
  assert.equal(args[0], 'proxy');
  assert.deepEqual(argAfter(args, '--xds'), ['istiod.tsmesh-system.svc:15012']);
  assert.deepEqual(argAfter(args, '--name'), ['$(POD_NAME)']);
  assert.deepEqual(argAfter(args, '--ip'), ['$(INSTANCE_IP)']);
  assert.deepEqual(argAfter(args, '--label'), ['app=web', 'version=v2', 'security.istio.io/tlsMode=istio']);
  assert.deepEqual(argAfter(args, '--app-port'), ['8080', '8443', '9102'], 'TCP container ports of every app container, once each');
  assert.deepEqual(argAfter(args, '--status-port'), ['15021']);
  assert.deepEqual(argAfter(args, '--token-file'), ['/var/run/secrets/tsmesh/token']);
  assert.deepEqual((proxy['env'] as JsonObject[]).map((e) => [e['name'], ((e['valueFrom'] as JsonObject)['fieldRef'] as JsonObject)['fieldPath']]),
    [['POD_NAME', 'metadata.name'], ['POD_NAMESPACE', 'metadata.namespace'], ['INSTANCE_IP', 'status.podIP'], ['SERVICE_ACCOUNT', 'spec.serviceAccountName']]);
  assert.deepEqual((proxy['readinessProbe'] as JsonObject)['httpGet'], { path: '/healthz/ready', port: 15021 });
  const sc = proxy['securityContext'] as JsonObject;
  assert.equal(sc['runAsUser'], 1337);
  assert.equal(sc['runAsNonRoot'], true);
  assert.deepEqual(proxy['resources'], { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '2000m', memory: '1024Mi' } });
  const init = byName(out, 'tsmesh-init', 'initContainers');
  assert.deepEqual(((init['securityContext'] as JsonObject)['capabilities'] as JsonObject)['add'], ['NET_ADMIN', 'NET_RAW']);
  assert.deepEqual(init['args'], ['iptables', '-p', '15001', '-z', '15006', '-u', '1337', '-m', 'REDIRECT', '-i', '*', '-x', '', '-b', '*', '-d', '15090,15021,15020']);
  const meta = out['metadata'] as JsonObject;
  assert.deepEqual(JSON.parse((meta['annotations'] as JsonObject)['sidecar.tsmesh.io/status'] as string), { initContainers: ['tsmesh-init'], containers: ['tsmesh-proxy'], volumes: ['tsmesh-envoy', 'tsmesh-token'], version: '0.1.0' });
  assert.equal((meta['annotations'] as JsonObject)['kubectl.kubernetes.io/default-container'], 'web');
});

test('overrides by annotation, tsmesh names before Istio names', () => {
  const out = injected(pod({ annotations: {
    'sidecar.tsmesh.io/proxyCPU': '250m', 'sidecar.istio.io/proxyCPU': '1', 'sidecar.istio.io/proxyMemoryLimit': '2Gi',
    'traffic.sidecar.istio.io/includeOutboundIPRanges': '10.0.0.0/8,fd00::/8', 'traffic.sidecar.tsmesh.io/includeInboundPorts': '8080',
    'traffic.sidecar.tsmesh.io/excludeInboundPorts': '8081, 15021', 'traffic.sidecar.istio.io/excludeOutboundPorts': '3306,5432',
  } }));
  const init = byName(out, 'tsmesh-init', 'initContainers');
  assert.deepEqual(init['args'], ['iptables', '-p', '15001', '-z', '15006', '-u', '1337', '-m', 'REDIRECT', '-i', '10.0.0.0/8,fd00::/8', '-x', '', '-b', '8080', '-d', '15090,15021,15020,8081', '-o', '3306,5432']);
  assert.deepEqual(byName(out, 'tsmesh-proxy')['resources'], { requests: { cpu: '250m', memory: '128Mi' }, limits: { cpu: '2000m', memory: '2Gi' } });
});

test('options: image, control plane address, no token', () => {
  const r = injectPod(pod(), { ...OPTS, image: 'registry.local/tsmesh:dev', xdsAddress: 'tsmesh.mesh.svc:15010', tokenFile: undefined }, 'shop');
  assert.ok(r.injected);
  const proxy = byName(r.pod, 'tsmesh-proxy');
  assert.equal(proxy['image'], 'registry.local/tsmesh:dev');
  assert.equal(byName(r.pod, 'tsmesh-init', 'initContainers')['image'], 'registry.local/tsmesh:dev');
  assert.deepEqual(argAfter(proxy['args'] as string[], '--xds'), ['tsmesh.mesh.svc:15010']);
  assert.deepEqual(argAfter(proxy['args'] as string[], '--token-file'), []);
  assert.deepEqual(((r.pod['spec'] as JsonObject)['volumes'] as JsonObject[]).map((v) => v['name']), ['tsmesh-envoy']);
});

test('a pod that cannot be injected as it is: the field and the reason', () => {
  const rows: [PodLike, string][] = [
    [{ metadata: { name: 'x' } }, 'spec: missing: a pod needs a spec'],
    [pod({}, { containers: [] }), 'spec.containers: a pod needs at least one container'],
    [pod({}, { containers: [{ image: 'x' }] }), 'spec.containers[0].name: every container needs a name'],
    [pod({}, { containers: [{ name: 'a', ports: [{ containerPort: 15001 }] }] }), 'spec.containers[0].ports[0].containerPort: 15001 is the sidecar\'s outbound capture port'],
    [pod({}, { containers: [{ name: 'a', ports: [{ containerPort: 'http' }] }] }), 'spec.containers[0].ports[0].containerPort: expected a port 1-65535, got "http"'],
    [pod({}, { volumes: [{ name: 'tsmesh-envoy', emptyDir: {} }] }), 'spec.volumes: the name "tsmesh-envoy" is reserved for the sidecar'],
    [pod({ annotations: { 'sidecar.istio.io/proxyMemory': '1 GB' } }), 'metadata.annotations["sidecar.istio.io/proxyMemory"]: "1 GB": expected a Kubernetes quantity such as 100m, 0.5, 128Mi'],
    [pod({ annotations: { 'traffic.sidecar.tsmesh.io/excludeOutboundIPRanges': '10.0.0.0/33' } }), 'metadata.annotations["traffic.sidecar.tsmesh.io/excludeOutboundIPRanges"]: "10.0.0.0/33": expected "*" or a comma-separated list of CIDRs such as 10.0.0.0/8,fd00::/8'],
    [pod({ annotations: { 'traffic.sidecar.istio.io/excludeInboundPorts': '80,http' } }), 'metadata.annotations["traffic.sidecar.istio.io/excludeInboundPorts"]: "80,http": expected a comma-separated list of ports 1-65535'],
    [pod({ annotations: { 'traffic.sidecar.tsmesh.io/includeInboundPorts': '0' } }), 'metadata.annotations["traffic.sidecar.tsmesh.io/includeInboundPorts"]: "0": expected "*" or a comma-separated list of ports 1-65535'],
  ];
  for (const [p, want] of rows) assert.throws(() => injectPod(p, OPTS, 'shop'), (e: Error) => { assert.equal(e.message, want); return true; });
});

test('injecting an injected pod changes nothing', () => {
  const once = injected(pod({ labels: { app: 'web' } }));
  const again = injectPod(once, OPTS, 'shop');
  assert.equal(again.injected, false);
});
