import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../../src/control/config/analyze.js';
import { parseResources } from '../../../src/control/config/parse.js';
import { formatWithSeverity } from '../../../src/control/config/issues.js';
import { resolveHost } from '../../../src/control/config/hosts.js';

const SE = (name: string, ns = 'default', ports = '[{ number: 9080, name: http }]', host = `${name}.${ns}.svc.cluster.local`) => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${name}, namespace: ${ns} }
spec: { hosts: [${host}], ports: ${ports}, resolution: STATIC }
---`;
const DR = (name: string, host: string, subsets: string[], ns = 'default') => `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${name}, namespace: ${ns} }
spec: { host: ${host}, subsets: [${subsets.map((s) => `{ name: ${s}, labels: { version: ${s} } }`).join(', ')}] }
---`;
const VS = (name: string, route: string, ns = 'default', hosts = `[${name}]`) => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name}, namespace: ${ns} }
spec: { hosts: ${hosts}, http: [{ route: ${route} }] }
---`;

const PA = (name: string, ns: string, spec: string) => `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: ${name}, namespace: ${ns} }
spec: { ${spec}mtls: { mode: STRICT } }
---`;
const AP = (name: string, ns: string, rule: string) => `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ${name}, namespace: ${ns} }
spec: { rules: [${rule}] }
---`;
const RA = (name: string, ns: string) => `
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: ${name}, namespace: ${ns} }
spec: { jwtRules: [{ issuer: i, jwksUri: "https://i.example.com/keys" }] }
---`;

function run(yaml: string): string[] {
  const { resources, issues } = parseResources(yaml, 'test.yaml');
  assert.deepEqual(issues, [], 'the table inputs are valid resources');
  return analyze(resources).map(formatWithSeverity);
}

const ROWS: [string, string, string[]][] = [
  ['consistent config: nothing to report', SE('reviews') + DR('reviews', 'reviews', ['v1', 'v2']) + VS('reviews', '[{ destination: { host: reviews, subset: v2 } }]'), []],
  ['short name resolves in the VirtualService namespace', SE('reviews', 'default') + VS('reviews', '[{ destination: { host: reviews } }]', 'prod'),
    ['Error: VirtualService prod/reviews: spec.http[0].route[0].destination.host: no ServiceEntry defines host "reviews.prod.svc.cluster.local"']],
  ['FQDN reaches across namespaces', SE('reviews', 'default') + VS('reviews', '[{ destination: { host: reviews.default.svc.cluster.local } }]', 'prod', '[reviews.default.svc.cluster.local]'), []],
  ['a wildcard ServiceEntry covers a host', SE('ext', 'default', '[{ number: 443, name: https, protocol: HTTPS }]', '"*.example.com"') + VS('ext', '[{ destination: { host: api.example.com } }]', 'default', '[api.example.com]'), []],
  ['missing subset', SE('reviews') + DR('reviews', 'reviews', ['v1']) + VS('reviews', '[{ destination: { host: reviews, subset: v1 }, weight: 50 }, { destination: { host: reviews, subset: v4 }, weight: 50 }]'),
    ['Error: VirtualService default/reviews: spec.http[0].route[1].destination.subset: subset "v4" is not defined by DestinationRule default/reviews for host "reviews.default.svc.cluster.local"']],
  ['subset without any DestinationRule', SE('reviews') + VS('reviews', '[{ destination: { host: reviews, subset: v1 } }]'),
    ['Error: VirtualService default/reviews: spec.http[0].route[0].destination.subset: subset "v1": no DestinationRule for host "reviews.default.svc.cluster.local"']],
  ['port the service does not have', SE('reviews') + VS('reviews', '[{ destination: { host: reviews, port: { number: 8080 } } }]'),
    ['Error: VirtualService default/reviews: spec.http[0].route[0].destination.port.number: host "reviews.default.svc.cluster.local" has no port 8080 (ports: 9080)']],
  ['several ports and none chosen', SE('reviews', 'default', '[{ number: 9080, name: http }, { number: 9090, name: grpc, protocol: GRPC }]') + VS('reviews', '[{ destination: { host: reviews } }]'),
    ['Warning: VirtualService default/reviews: spec.http[0].route[0].destination: host "reviews.default.svc.cluster.local" has several ports (9080, 9090); without port.number the route applies to all of them']],
  ['DestinationRule for an unknown host', DR('ghost', 'ghost', ['v1']),
    ['Warning: DestinationRule default/ghost: spec.host: no ServiceEntry defines host "ghost.default.svc.cluster.local"']],
  ['two DestinationRules for one host', SE('reviews') + DR('reviews', 'reviews', ['v1']) + DR('reviews-2', 'reviews.default.svc.cluster.local', ['v2']),
    ['Warning: DestinationRule default/reviews-2: spec.host: DestinationRule default/reviews also configures host "reviews.default.svc.cluster.local"; only one DestinationRule per host is used']],
  ['two VirtualServices for one host', SE('reviews') + VS('reviews', '[{ destination: { host: reviews } }]') + VS('reviews-2', '[{ destination: { host: reviews } }]', 'default', '[reviews]'),
    ['Error: VirtualService default/reviews-2: spec.hosts[0]: host "reviews.default.svc.cluster.local" is also claimed by VirtualService default/reviews; only one of them is used']],
  ['mirror destinations are checked too', SE('reviews') + `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec: { hosts: [reviews], http: [{ route: [{ destination: { host: reviews } }], mirror: { host: shadow } }] }
---`, ['Error: VirtualService default/reviews: spec.http[0].mirror.host: no ServiceEntry defines host "shadow.default.svc.cluster.local"']],
  ['more than one MeshConfig', `
apiVersion: tsmesh.io/v1
kind: MeshConfig
metadata: { name: mesh }
spec: {}
---
apiVersion: tsmesh.io/v1
kind: MeshConfig
metadata: { name: mesh, namespace: istio-system }
spec: { outboundTrafficPolicy: { mode: REGISTRY_ONLY } }`, ['Error: MeshConfig istio-system/mesh: more than one MeshConfig (first: default/mesh); only one is allowed']],
  ['security: two namespace-wide PeerAuthentications, a selector in the root namespace', PA('a', 'prod', '') + PA('b', 'prod', '') + PA('c', 'istio-system', 'selector: { matchLabels: { app: x } }, '),
    ['Warning: PeerAuthentication istio-system/c: spec.selector: a PeerAuthentication with a selector in the root namespace istio-system applies to workloads of istio-system only, not mesh-wide',
      'Warning: PeerAuthentication prod/b: PeerAuthentication prod/a also applies to the whole namespace prod; only the oldest is used']],
  ['security: request principals without RequestAuthentication; spiffe:// in principals', AP('p', 'prod', '{ from: [{ source: { requestPrincipals: ["*"], principals: ["spiffe://cluster.local/ns/a/sa/b"] } }], when: [{ key: "request.auth.claims[iss]", values: [x] }] }'),
    ['Warning: AuthorizationPolicy prod/p: spec.rules[0].from[0].source.principals[0]: Istio writes principals without "spiffe://" (e.g. "cluster.local/ns/default/sa/curl"); "spiffe://cluster.local/ns/a/sa/b" is read as "cluster.local/ns/a/sa/b"',
      'Warning: AuthorizationPolicy prod/p: spec.rules[0].from[0].source.requestPrincipals: no RequestAuthentication in namespace prod or the root namespace: no request has a request principal, so this never matches',
      'Warning: AuthorizationPolicy prod/p: spec.rules[0].when[0].key: no RequestAuthentication in namespace prod or the root namespace: request.auth.claims[iss] is never set, so this never matches']],
  ['security: a mesh-wide RequestAuthentication serves every namespace', AP('p', 'prod', '{ from: [{ source: { requestPrincipals: ["*"] } }] }') + RA('jwt', 'istio-system'), []],
];

test('analysis: cross-resource references, as errors or warnings with resource and path', () => {
  for (const [what, yaml, expected] of ROWS) assert.deepEqual(run(yaml), expected, what);
});

test('host resolution follows Istio: short names are namespace-relative', () => {
  assert.equal(resolveHost('reviews', 'prod'), 'reviews.prod.svc.cluster.local');
  assert.equal(resolveHost('Reviews.Default.svc.cluster.local', 'prod'), 'reviews.default.svc.cluster.local');
  assert.equal(resolveHost('*.example.com', 'prod'), '*.example.com');
  assert.equal(resolveHost('*', 'prod'), '*');
});
