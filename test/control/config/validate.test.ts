import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { validateResource, validateAll, resolveKind } from '../../../src/control/config/validate.js';
import { parseResources } from '../../../src/control/config/parse.js';
import { formatIssue } from '../../../src/control/config/issues.js';
import { repoRoot } from '../../support/proxy.js';

const V1 = 'networking.istio.io/v1';
const vs = (spec: unknown, name = 'reviews') => ({ apiVersion: V1, kind: 'VirtualService', metadata: { name }, spec });
const dr = (spec: unknown) => ({ apiVersion: V1, kind: 'DestinationRule', metadata: { name: 'reviews', namespace: 'prod' }, spec });
const se = (spec: unknown) => ({ apiVersion: V1, kind: 'ServiceEntry', metadata: { name: 'ext' }, spec });
const route = (extra: object = {}) => ({ route: [{ destination: { host: 'reviews' } }], ...extra });

function messages(value: unknown): string[] {
  return validateResource({ value, origin: 'input' }).issues.map(formatIssue);
}

/** [what, resource, every expected message (exactly, in order)] */
const BAD: [string, unknown, string[]][] = [
  ['weight not an integer', vs({ hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 100 }, { destination: { host: 'reviews', subset: 'v2' }, weight: 'abc' }] }] }),
    ['VirtualService default/reviews: spec.http[0].route[1].weight: expected an integer 0-100, got "abc"']],
  ['weight out of range', vs({ hosts: ['r'], http: [{ route: [{ destination: { host: 'r' }, weight: 101 }] }] }),
    ['VirtualService default/reviews: spec.http[0].route[0].weight: expected an integer 0-100, got 101']],
  ['weights do not add up', vs({ hosts: ['r'], http: [{ route: [{ destination: { host: 'r', subset: 'a' }, weight: 50 }, { destination: { host: 'r', subset: 'b' }, weight: 45 }] }] }),
    ['VirtualService default/reviews: spec.http[0].route: weights must add up to 100, got 95']],
  ['missing weights count as 0', vs({ hosts: ['r'], tcp: [{ route: [{ destination: { host: 'r', subset: 'a' } }, { destination: { host: 'r', subset: 'b' } }] }] }),
    ['VirtualService default/reviews: spec.tcp[0].route: weights must add up to 100, got 0']],
  ['unknown field', vs({ hosts: ['r'], http: [route({ retry: { attempts: 3 } })] }),
    ['VirtualService default/reviews: spec.http[0].retry: unknown field']],
  ['Istio field tsmesh does not support', vs({ hosts: ['r'], tls: [], http: [route({ delegate: { name: 'x' } })] }),
    ['VirtualService default/reviews: spec.tls: not supported by tsmesh', 'VirtualService default/reviews: spec.http[0].delegate: not supported by tsmesh']],
  ['duration syntax', vs({ hosts: ['r'], http: [route({ timeout: '3 seconds' })] }),
    ['VirtualService default/reviews: spec.http[0].timeout: expected a duration such as "1s", "100ms" or "1m30s", got "3 seconds"']],
  ['duration below 1ms', vs({ hosts: ['r'], http: [route({ retries: { perTryTimeout: '500us' } })] }),
    ['VirtualService default/reviews: spec.http[0].retries.perTryTimeout: duration must be at least 1ms, got "500us"']],
  ['duration as a number', vs({ hosts: ['r'], http: [route({ timeout: 5 })] }),
    ['VirtualService default/reviews: spec.http[0].timeout: expected a duration such as "1s", "100ms" or "1m30s", got 5']],
  ['StringMatch with two kinds', vs({ hosts: ['r'], http: [route({ match: [{ uri: { prefix: '/a', exact: '/a' } }] })] }),
    ['VirtualService default/reviews: spec.http[0].match[0].uri: expected exactly one of exact, prefix, regex, got exact and prefix']],
  ['StringMatch empty', vs({ hosts: ['r'], http: [route({ match: [{ method: {} }] })] }),
    ['VirtualService default/reviews: spec.http[0].match[0].method: expected exactly one of exact, prefix, regex']],
  ['regex RE2 rejects', vs({ hosts: ['r'], http: [route({ match: [{ headers: { 'x-user': { regex: '(?<=a)b' } } }] })] }),
    ['VirtualService default/reviews: spec.http[0].match[0].headers.x-user.regex: invalid RE2 regex "(?<=a)b": error parsing regexp: invalid named capture: `(?<=a)b`']],
  ['query param prefix', vs({ hosts: ['r'], http: [route({ match: [{ queryParams: { q: { prefix: 'a' } } }] })] }),
    ['VirtualService default/reviews: spec.http[0].match[0].queryParams.q.prefix: not supported by tsmesh']],
  ['header name', vs({ hosts: ['r'], http: [route({ headers: { request: { set: { 'bad header': 'x' } } } })] }),
    ['VirtualService default/reviews: spec.http[0].headers.request.set["bad header"]: expected an HTTP header name, got "bad header"']],
  ['route and redirect', vs({ hosts: ['r'], http: [route({ redirect: { uri: '/x' } })] }),
    ['VirtualService default/reviews: spec.http[0]: route, redirect and directResponse are mutually exclusive, got route and redirect']],
  ['no action', vs({ hosts: ['r'], http: [{ timeout: '1s' }] }),
    ['VirtualService default/reviews: spec.http[0]: expected one of route, redirect, directResponse']],
  ['redirect code', vs({ hosts: ['r'], http: [{ redirect: { uri: '/x', redirectCode: 200 } }] }),
    ['VirtualService default/reviews: spec.http[0].redirect.redirectCode: expected one of 301, 302, 303, 307, 308, got 200']],
  ['rewrite with redirect', vs({ hosts: ['r'], http: [{ redirect: { uri: '/x' }, rewrite: { uri: '/y' } }] }),
    ['VirtualService default/reviews: spec.http[0].rewrite: rewrite may not be used with redirect']],
  ['directResponse status', vs({ hosts: ['r'], http: [{ directResponse: { status: 99 } }] }),
    ['VirtualService default/reviews: spec.http[0].directResponse.status: expected an integer 200-599, got 99']],
  ['directResponse without status', vs({ hosts: ['r'], http: [{ directResponse: { body: { string: 'x' } } }] }),
    ['VirtualService default/reviews: spec.http[0].directResponse.status: required']],
  ['retryOn', vs({ hosts: ['r'], http: [route({ retries: { attempts: 3, retryOn: '5xx,gateway-error,503,sometimes' } })] }),
    ['VirtualService default/reviews: spec.http[0].retries.retryOn: "sometimes" is not a retry condition: expected a comma-separated list of 5xx, gateway-error, reset, reset-before-request, connect-failure, envoy-ratelimited, retriable-4xx, refused-stream, retriable-status-codes, retriable-headers, http3-post-connect-failure, cancelled, deadline-exceeded, internal, resource-exhausted, unavailable or HTTP status codes']],
  ['retries attempts negative', vs({ hosts: ['r'], http: [route({ retries: { attempts: -1 } })] }),
    ['VirtualService default/reviews: spec.http[0].retries.attempts: expected an integer 0-2147483647, got -1']],
  ['fault percentage', vs({ hosts: ['r'], http: [route({ fault: { abort: { httpStatus: 503, percentage: { value: 150 } } } })] }),
    ['VirtualService default/reviews: spec.http[0].fault.abort.percentage.value: expected a number 0-100, got 150']],
  ['fault abort with both', vs({ hosts: ['r'], http: [route({ fault: { abort: { httpStatus: 503, grpcStatus: 'UNAVAILABLE' } } })] }),
    ['VirtualService default/reviews: spec.http[0].fault.abort: expected exactly one of httpStatus, grpcStatus']],
  ['fault delay without fixedDelay', vs({ hosts: ['r'], http: [route({ fault: { delay: { percentage: { value: 5 } } } })] }),
    ['VirtualService default/reviews: spec.http[0].fault.delay.fixedDelay: required']],
  ['grpc status name', vs({ hosts: ['r'], http: [route({ fault: { abort: { grpcStatus: 'BROKEN' } } })] }),
    ['VirtualService default/reviews: spec.http[0].fault.abort.grpcStatus: expected one of OK, CANCELLED, UNKNOWN, INVALID_ARGUMENT, DEADLINE_EXCEEDED, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED, RESOURCE_EXHAUSTED, FAILED_PRECONDITION, ABORTED, OUT_OF_RANGE, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS, UNAUTHENTICATED, got "BROKEN"']],
  ['mirrorPercentage without mirror', vs({ hosts: ['r'], http: [route({ mirrorPercentage: { value: 10 } })] }),
    ['VirtualService default/reviews: spec.http[0].mirrorPercentage: requires mirror']],
  ['wildcard destination', vs({ hosts: ['r'], http: [{ route: [{ destination: { host: '*.example.com' } }] }] }),
    ['VirtualService default/reviews: spec.http[0].route[0].destination.host: expected a DNS name (no wildcards), got "*.example.com"']],
  ['destination port', vs({ hosts: ['r'], http: [{ route: [{ destination: { host: 'r', port: { number: 70000 } } }] }] }),
    ['VirtualService default/reviews: spec.http[0].route[0].destination.port.number: expected an integer 1-65535, got 70000']],
  ['bad host', vs({ hosts: ['bad_host!'], http: [route()] }),
    ['VirtualService default/reviews: spec.hosts[0]: expected a DNS name or a wildcard such as "*.example.com", got "bad_host!"']],
  ['mesh-bound "*"', vs({ hosts: ['*'], http: [route()] }),
    ['VirtualService default/reviews: spec.hosts[0]: the wildcard host "*" is not allowed for virtual services bound to the mesh gateway']],
  ['gateways other than mesh', vs({ hosts: ['r'], gateways: ['istio-system/ingress'], http: [route()] }),
    ['VirtualService default/reviews: spec.gateways[0]: not supported by tsmesh: only the "mesh" gateway, got "istio-system/ingress"']],
  ['hosts missing', vs({ http: [route()] }), ['VirtualService default/reviews: spec.hosts: required']],
  ['no routes', vs({ hosts: ['r'] }), ['VirtualService default/reviews: spec: expected at least one http or tcp route']],
  ['cors', vs({ hosts: ['r'], http: [route({ corsPolicy: { allowMethods: ['FETCH'], maxAge: '1500ms' } })] }),
    ['VirtualService default/reviews: spec.http[0].corsPolicy.allowMethods[0]: expected one of GET, HEAD, POST, PUT, PATCH, DELETE, CONNECT, OPTIONS, TRACE, got "FETCH"', 'VirtualService default/reviews: spec.http[0].corsPolicy.maxAge: maxAge is accurate only to seconds']],
  ['sourceLabels', vs({ hosts: ['r'], http: [route({ match: [{ sourceLabels: { 'app/x/y': 'v' } }] })] }),
    ['VirtualService default/reviews: spec.http[0].match[0].sourceLabels["app/x/y"]: label key prefix must be a DNS subdomain, got "app/x/y"']],
  ['tcp destinationSubnets', vs({ hosts: ['r'], tcp: [{ match: [{ destinationSubnets: ['10.0.0.0/33'] }], route: [{ destination: { host: 'r' } }] }] }),
    ['VirtualService default/reviews: spec.tcp[0].match[0].destinationSubnets[0]: expected an IP address or CIDR such as "10.0.0.0/8", got "10.0.0.0/33"']],

  ['DR subset names unique', dr({ host: 'reviews', subsets: [{ name: 'v1' }, { name: 'v1' }] }),
    ['DestinationRule prod/reviews: spec.subsets[1].name: duplicate subset name "v1"']],
  ['DR subset name DNS label', dr({ host: 'reviews', subsets: [{ name: 'V_1', labels: { version: 'v1' } }] }),
    ['DestinationRule prod/reviews: spec.subsets[0].name: expected a DNS-1123 label (lowercase letters, digits, "-", at most 63), got "V_1"']],
  ['DR labels', dr({ host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'not valid!' } }] }),
    ['DestinationRule prod/reviews: spec.subsets[0].labels.version: label value must be at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit, got "not valid!"']],
  ['DR host required', dr({ subsets: [] }), ['DestinationRule prod/reviews: spec.host: required']],
  ['DR simple and consistentHash', dr({ host: 'r', trafficPolicy: { loadBalancer: { simple: 'RANDOM', consistentHash: { useSourceIp: true } } } }),
    ['DestinationRule prod/reviews: spec.trafficPolicy.loadBalancer: only one of simple and consistentHash may be set']],
  ['DR simple unknown', dr({ host: 'r', trafficPolicy: { loadBalancer: { simple: 'FASTEST' } } }),
    ['DestinationRule prod/reviews: spec.trafficPolicy.loadBalancer.simple: expected one of UNSPECIFIED, LEAST_CONN, RANDOM, PASSTHROUGH, ROUND_ROBIN, LEAST_REQUEST, got "FASTEST"']],
  ['DR consistentHash without key', dr({ host: 'r', trafficPolicy: { loadBalancer: { consistentHash: { ringHash: { minimumRingSize: 1024 } } } } }),
    ['DestinationRule prod/reviews: spec.trafficPolicy.loadBalancer.consistentHash: expected exactly one of httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName']],
  ['DR maglev table size prime', dr({ host: 'r', trafficPolicy: { loadBalancer: { consistentHash: { useSourceIp: true, maglev: { tableSize: 1000 } } } } }),
    ['DestinationRule prod/reviews: spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize: expected a prime number, got 1000']],
  ['DR outlier percent', dr({ host: 'r', trafficPolicy: { outlierDetection: { maxEjectionPercent: 120, interval: '0s' } } }),
    ['DestinationRule prod/reviews: spec.trafficPolicy.outlierDetection.interval: duration must be at least 1ms, got "0s"', 'DestinationRule prod/reviews: spec.trafficPolicy.outlierDetection.maxEjectionPercent: expected an integer 0-100, got 120']],
  ['DR tls tunnel unsupported', dr({ host: 'r', trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' }, tunnel: {} } }),
    ['DestinationRule prod/reviews: spec.trafficPolicy.tunnel: not supported by tsmesh']],
  ['DR port-level port required', dr({ host: 'r', trafficPolicy: { portLevelSettings: [{ loadBalancer: { simple: 'RANDOM' } }] } }),
    ['DestinationRule prod/reviews: spec.trafficPolicy.portLevelSettings[0].port: required']],
  ['DR connectionPool negative', dr({ host: 'r', trafficPolicy: { connectionPool: { tcp: { maxConnections: -5 } } } }),
    ['DestinationRule prod/reviews: spec.trafficPolicy.connectionPool.tcp.maxConnections: expected an integer 0-2147483647, got -5']],

  ['SE port range', se({ hosts: ['api.example.com'], ports: [{ number: 0, name: 'http', protocol: 'HTTP' }] }),
    ['ServiceEntry default/ext: spec.ports[0].number: expected an integer 1-65535, got 0']],
  ['SE protocol', se({ hosts: ['api.example.com'], ports: [{ number: 80, name: 'http', protocol: 'SPDY' }] }),
    ['ServiceEntry default/ext: spec.ports[0].protocol: expected one of HTTP, HTTPS, HTTP2, GRPC, GRPC-WEB, TCP, TLS, MONGO, REDIS, MYSQL, got "SPDY"']],
  ['SE duplicate port', se({ hosts: ['a.example.com'], ports: [{ number: 80, name: 'http' }, { number: 80, name: 'http-2' }] }),
    ['ServiceEntry default/ext: spec.ports[1].number: duplicate port 80']],
  ['SE host "*"', se({ hosts: ['*'] }), ['ServiceEntry default/ext: spec.hosts[0]: a ServiceEntry host cannot be "*"']],
  ['SE endpoints and selector', se({ hosts: ['a.example.com'], resolution: 'STATIC', endpoints: [{ address: '10.0.0.1' }], workloadSelector: { labels: { app: 'a' } } }),
    ['ServiceEntry default/ext: spec: only one of endpoints and workloadSelector may be set']],
  ['SE STATIC endpoint not an IP', se({ hosts: ['a.example.com'], resolution: 'STATIC', endpoints: [{ address: 'a.example.com' }] }),
    ['ServiceEntry default/ext: spec.endpoints[0].address: expected an IP address with resolution STATIC, got "a.example.com"']],
  ['SE endpoint port name', se({ hosts: ['a.example.com'], resolution: 'STATIC', ports: [{ number: 80, name: 'http' }], endpoints: [{ address: '10.0.0.1', ports: { grpc: 9000 } }] }),
    ['ServiceEntry default/ext: spec.endpoints[0].ports.grpc: no port named "grpc" in spec.ports']],
  ['SE resolution', se({ hosts: ['a.example.com'], resolution: 'MAGIC' }),
    ['ServiceEntry default/ext: spec.resolution: expected one of NONE, STATIC, DNS, DNS_ROUND_ROBIN, got "MAGIC"']],
  ['SE addresses', se({ hosts: ['a.example.com'], addresses: ['not-an-ip'] }),
    ['ServiceEntry default/ext: spec.addresses[0]: expected an IP address or CIDR such as "10.0.0.0/8", got "not-an-ip"']],
  ['SE port name required', se({ hosts: ['a.example.com'], ports: [{ number: 80 }] }), ['ServiceEntry default/ext: spec.ports[0].name: required']],

  ['WorkloadEntry address', { apiVersion: V1, kind: 'WorkloadEntry', metadata: { name: 'vm1' }, spec: { address: '10.0.0.1', ports: { http: 99999 } } },
    ['WorkloadEntry default/vm1: spec.ports.http: expected an integer 1-65535, got 99999']],
  ['WorkloadGroup template address', { apiVersion: V1, kind: 'WorkloadGroup', metadata: { name: 'g' }, spec: { template: { address: '10.0.0.1' } } },
    ['WorkloadGroup default/g: spec.template.address: must not be set in a WorkloadGroup template']],
  ['MeshConfig mode', { apiVersion: 'tsmesh.io/v1', kind: 'MeshConfig', metadata: { name: 'mesh' }, spec: { outboundTrafficPolicy: { mode: 'DENY' }, accessLogFormat: 'x' } },
    ['MeshConfig default/mesh: spec.accessLogFormat: not supported by tsmesh', 'MeshConfig default/mesh: spec.outboundTrafficPolicy.mode: expected one of ALLOW_ANY, REGISTRY_ONLY, got "DENY"']],

  ['apiVersion', { apiVersion: 'networking.istio.io/v2', kind: 'VirtualService', metadata: { name: 'x' }, spec: { hosts: ['r'], http: [route()] } },
    ['VirtualService default/x: apiVersion: expected networking.istio.io/v1 or networking.istio.io/v1beta1 or networking.istio.io/v1alpha3 for VirtualService, got "networking.istio.io/v2"']],
  ['unknown kind', { apiVersion: V1, kind: 'Gateway', metadata: { name: 'x' }, spec: {} },
    ['input: kind: expected one of ServiceEntry, WorkloadEntry, WorkloadGroup, DestinationRule, VirtualService, MeshConfig, PeerAuthentication, AuthorizationPolicy, RequestAuthentication, got "Gateway"']],
  ['name required', { apiVersion: V1, kind: 'VirtualService', metadata: {}, spec: { hosts: ['r'], http: [route()] } },
    ['VirtualService (input): metadata.name: required']],
  ['name syntax', { apiVersion: V1, kind: 'VirtualService', metadata: { name: 'Reviews_1' }, spec: { hosts: ['r'], http: [route()] } },
    ['VirtualService default/Reviews_1: metadata.name: expected a DNS-1123 name (lowercase letters, digits, "-" and "."), got "Reviews_1"']],
  ['namespace syntax', { apiVersion: V1, kind: 'VirtualService', metadata: { name: 'x', namespace: 'a.b' }, spec: { hosts: ['r'], http: [route()] } },
    ['VirtualService a.b/x: metadata.namespace: expected a DNS-1123 label (lowercase letters, digits, "-", at most 63), got "a.b"']],
  ['status is not input', { apiVersion: V1, kind: 'VirtualService', metadata: { name: 'x' }, spec: { hosts: ['r'], http: [route()] }, status: {} },
    ['VirtualService default/x: status: unknown field']],
  ['spec required', { apiVersion: V1, kind: 'DestinationRule', metadata: { name: 'x' } }, ['DestinationRule default/x: spec: required']],
  ['not an object', 'hello', ['input: expected an object, got "hello"']],
  ['null list entry and map value', vs({ hosts: ['r', null], http: [route({ match: [{ sourceLabels: { app: null } }] })] }),
    ['VirtualService default/reviews: spec.hosts[1]: expected a value, got null', 'VirtualService default/reviews: spec.http[0].match[0].sourceLabels.app: expected a string, got null']],
  ['a null field is an unset field', vs({ hosts: ['r'], http: [route({ timeout: null, retries: null })], tcp: null }), []],
];

test('bad resources: every problem, with resource, field path and reason', () => {
  for (const [what, value, expected] of BAD) assert.deepEqual(messages(value), expected, what);
});

test('valid resources pass, with the namespace defaulted and server metadata dropped', () => {
  const full = vs({
    hosts: ['reviews', 'reviews.example.com'],
    gateways: ['mesh'],
    http: [
      { name: 'jason', match: [{ headers: { 'end-user': { exact: 'jason' }, 'x-present': {} }, uri: { prefix: '/api' }, queryParams: { debug: { exact: '1' } }, ignoreUriCase: true, sourceLabels: { app: 'productpage' }, port: 9080 }],
        route: [{ destination: { host: 'reviews', subset: 'v2', port: { number: 9080 } }, headers: { response: { add: { 'x-version': 'v2' } } } }] },
      { route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 90 }, { destination: { host: 'reviews', subset: 'v3' }, weight: 10 }],
        timeout: '1.5s', retries: { attempts: 3, perTryTimeout: '500ms', retryOn: '5xx,connect-failure,503,unavailable' },
        fault: { delay: { fixedDelay: '2s', percentage: { value: 0.5 } }, abort: { httpStatus: 503, percentage: { value: 1 } } },
        mirror: { host: 'reviews', subset: 'v3' }, mirrorPercentage: { value: 5 },
        corsPolicy: { allowOrigins: [{ exact: 'https://a.example.com' }, { regex: 'https://.*\\.example\\.com' }], allowMethods: ['GET', 'POST'], maxAge: '24h', allowCredentials: true },
        headers: { request: { set: { 'x-mesh': 'tsmesh' }, remove: ['x-internal'] } },
        rewrite: { uriRegexRewrite: { match: '^/v1/(.*)', rewrite: '/\\1' } } },
      { match: [{ uri: { exact: '/old' } }], redirect: { uri: '/new', redirectCode: 301 } },
      { directResponse: { status: 418, body: { string: 'teapot' } } },
    ],
    tcp: [{ match: [{ port: 3306, destinationSubnets: ['10.0.0.0/8'] }], route: [{ destination: { host: 'mysql' } }] }],
  });
  const r = validateResource({ value: { ...full, metadata: { name: 'reviews', resourceVersion: '7', labels: { 'app.kubernetes.io/name': 'reviews' } } }, origin: 'input' });
  assert.deepEqual(r.issues.map(formatIssue), []);
  assert.deepEqual(r.resource?.metadata, { name: 'reviews', namespace: 'default', labels: { 'app.kubernetes.io/name': 'reviews' } });
  const d = dr({ host: 'reviews.prod.svc.cluster.local', trafficPolicy: { loadBalancer: { consistentHash: { httpCookie: { name: 'u', ttl: '0s' }, ringHash: { minimumRingSize: 1024 } } }, connectionPool: { tcp: { maxConnections: 100, connectTimeout: '250ms' }, http: { http1MaxPendingRequests: 10, maxRetries: 3, h2UpgradePolicy: 'UPGRADE' } }, outlierDetection: { consecutive5xxErrors: 5, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 50 }, portLevelSettings: [{ port: { number: 9080 }, loadBalancer: { simple: 'LEAST_REQUEST' } }] }, subsets: [{ name: 'v1', labels: { version: 'v1' }, trafficPolicy: { loadBalancer: { simple: 'RANDOM' } } }] });
  assert.deepEqual(messages(d), []);
  assert.deepEqual(messages(se({ hosts: ['api.example.com', '*.svc.example.com'], addresses: ['240.0.0.1', '10.1.0.0/16'], ports: [{ number: 443, name: 'https', protocol: 'https', targetPort: 8443 }], location: 'MESH_EXTERNAL', resolution: 'DNS', endpoints: [{ address: 'api.example.com', ports: { https: 443 }, labels: { version: 'v1' } }] })), []);
});

test('batches: a resource defined twice is refused; parse errors name the document and line', () => {
  const doc = 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: r }\nspec: { host: r }\n';
  const twice = parseResources(`${doc}---\n${doc}`, 'dr.yaml');
  assert.deepEqual(twice.issues.map(formatIssue), ['DestinationRule default/r: defined twice in the same input (dr.yaml document 1 and dr.yaml document 2)']);
  const broken = parseResources(`${doc}---\nkind: [\n`, 'dr.yaml');
  assert.equal(broken.resources.length, 0);
  assert.match(formatIssue(broken.issues[0]!), /^dr\.yaml document 2: line 7, column 1: Flow sequence in block collection must be sufficiently indented and end with a \]$/);
  const dup = parseResources('a: 1\na: 2\n', 'x.yaml');
  assert.match(formatIssue(dup.issues[0]!), /^x\.yaml: line 2, column 1: Map keys must be unique/);
  // JSON and `kind: List` (what `tsmesh get -o json` prints) are inputs too; empty documents are skipped.
  const list = parseResources(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [JSON.parse(JSON.stringify({ apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'a' }, spec: { host: 'a' } }))] }), 'list.json');
  assert.deepEqual(list.issues, []);
  assert.equal(list.resources[0]?.metadata.name, 'a');
  assert.deepEqual(parseResources('# nothing\n---\n', 'empty.yaml'), { resources: [], issues: [] });
  assert.equal(validateAll([]).resources.length, 0);
});

test('kinds resolve by Kind, plural and short name, in any case', () => {
  assert.equal(resolveKind('VirtualService'), 'VirtualService');
  assert.equal(resolveKind('virtualservices'), 'VirtualService');
  assert.equal(resolveKind('VS'), 'VirtualService');
  assert.equal(resolveKind('serviceentries'), 'ServiceEntry');
  assert.equal(resolveKind('gateway'), undefined);
});

test('the bookinfo examples validate', () => {
  const dir = join(repoRoot(), 'examples/bookinfo');
  for (const f of readdirSync(dir)) {
    const r = parseResources(readFileSync(join(dir, f), 'utf8'), f);
    assert.deepEqual(r.issues.map(formatIssue), [], f);
    assert.ok(r.resources.length > 0, f);
  }
});
