import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateResource, resolveKind } from '../../../src/control/config/validate.js';
import { formatIssue } from '../../../src/control/config/issues.js';

const SEC = 'security.istio.io/v1';
const pa = (spec: unknown) => ({ apiVersion: SEC, kind: 'PeerAuthentication', metadata: { name: 'p', namespace: 'prod' }, spec });
const ap = (spec: unknown) => ({ apiVersion: SEC, kind: 'AuthorizationPolicy', metadata: { name: 'a', namespace: 'prod' }, spec });
const ra = (spec: unknown) => ({ apiVersion: SEC, kind: 'RequestAuthentication', metadata: { name: 'r', namespace: 'prod' }, spec });
const dr = (tls: unknown) => ({ apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'd', namespace: 'prod' }, spec: { host: 'reviews', trafficPolicy: { tls } } });
const JWKS = JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b' }] });

function messages(value: unknown): string[] {
  return validateResource({ value, origin: 'input' }).issues.map(formatIssue);
}

/** [what, resource, every expected message (exactly, in order)] */
const BAD: [string, unknown, string[]][] = [
  ['mTLS mode', pa({ mtls: { mode: 'STRICTER' } }), ['PeerAuthentication prod/p: spec.mtls.mode: expected one of UNSET, DISABLE, PERMISSIVE, STRICT, got "STRICTER"']],
  ['portLevelMtls without selector', pa({ portLevelMtls: { 8080: { mode: 'DISABLE' } } }),
    ['PeerAuthentication prod/p: spec.portLevelMtls: requires spec.selector.matchLabels (port-level settings apply to selected workloads only)']],
  ['portLevelMtls key', pa({ selector: { matchLabels: { app: 'x' } }, portLevelMtls: { http: { mode: 'DISABLE' } } }),
    ['PeerAuthentication prod/p: spec.portLevelMtls.http: expected a port number 1-65535 as the key, got "http"']],
  ['targetRef', pa({ targetRef: { kind: 'Service', name: 'x' } }), ['PeerAuthentication prod/p: spec.targetRef: not supported by tsmesh']],
  ['CUSTOM action', ap({ action: 'CUSTOM', provider: { name: 'ext' } }),
    ['AuthorizationPolicy prod/a: spec.provider: not supported by tsmesh', 'AuthorizationPolicy prod/a: spec.action: CUSTOM is not supported by tsmesh (it needs an external authorization provider); use ALLOW, DENY or AUDIT']],
  ['targetRefs', ap({ targetRefs: [{ kind: 'Gateway', name: 'g' }] }), ['AuthorizationPolicy prod/a: spec.targetRefs: not supported by tsmesh']],
  ['empty source', ap({ rules: [{ from: [{ source: {} }] }] }), ['AuthorizationPolicy prod/a: spec.rules[0].from[0].source: must not be empty']],
  ['empty operation', ap({ rules: [{ to: [{}] }] }), ['AuthorizationPolicy prod/a: spec.rules[0].to[0].operation: must not be empty']],
  ['bad CIDR', ap({ rules: [{ from: [{ source: { ipBlocks: ['10.0.0.0/33'] } }] }] }),
    ['AuthorizationPolicy prod/a: spec.rules[0].from[0].source.ipBlocks[0]: expected an IP address or CIDR such as "10.0.0.0/8", got "10.0.0.0/33"']],
  ['bad port', ap({ rules: [{ to: [{ operation: { ports: ['http'] } }] }] }),
    ['AuthorizationPolicy prod/a: spec.rules[0].to[0].operation.ports[0]: expected a port number 1-65535, got "http"']],
  ['star in the middle of a path', ap({ rules: [{ to: [{ operation: { paths: ['/a/*/b'] } }] }] }),
    ['AuthorizationPolicy prod/a: spec.rules[0].to[0].operation.paths[0]: "*" is allowed only at the start or the end, got "/a/*/b"']],
  ['unknown when key', ap({ rules: [{ when: [{ key: 'request.time', values: ['x'] }] }] }),
    ['AuthorizationPolicy prod/a: spec.rules[0].when[0].key: unknown key "request.time"; expected request.headers[NAME], request.auth.claims[NAME] or one of source.ip, remote.ip, source.namespace, source.principal, request.auth.principal, request.auth.audiences, request.auth.presenter, destination.ip, destination.port, connection.sni']],
  ['when without values', ap({ rules: [{ when: [{ key: 'source.ip' }] }] }), ['AuthorizationPolicy prod/a: spec.rules[0].when[0]: at least one of values or notValues must be set']],
  ['when destination.port', ap({ rules: [{ when: [{ key: 'destination.port', values: ['x'] }] }] }), ['AuthorizationPolicy prod/a: spec.rules[0].when[0].values[0]: expected a port number, got "x"']],
  ['jwt without keys', ra({ jwtRules: [{ issuer: 'https://issuer' }] }), ['RequestAuthentication prod/r: spec.jwtRules[0]: one of jwks or jwksUri is required (tsmesh does not do OpenID discovery from the issuer)']],
  ['jwks not a key set', ra({ jwtRules: [{ issuer: 'i', jwks: '{"keys":[]}' }] }), ['RequestAuthentication prod/r: spec.jwtRules[0].jwks: expected a JSON Web Key Set: an object with a non-empty "keys" list']],
  ['jwks not JSON', ra({ jwtRules: [{ issuer: 'i', jwks: '{' }] }), ['RequestAuthentication prod/r: spec.jwtRules[0].jwks: not valid JSON: Expected property name or \'}\' in JSON at position 1']],
  ['jwksUri scheme', ra({ jwtRules: [{ issuer: 'i', jwksUri: 'ftp://x/keys' }] }), ['RequestAuthentication prod/r: spec.jwtRules[0].jwksUri: expected an http or https URL, got "ftp://x/keys"']],
  ['duplicate issuer', ra({ jwtRules: [{ issuer: 'i', jwks: JWKS }, { issuer: 'i', jwks: JWKS }] }), ['RequestAuthentication prod/r: spec.jwtRules[1].issuer: duplicate issuer "i"']],
  ['claim header', ra({ jwtRules: [{ issuer: 'i', jwks: JWKS, outputClaimToHeaders: [{ header: 'x y', claim: 'sub' }] }] }),
    ['RequestAuthentication prod/r: spec.jwtRules[0].outputClaimToHeaders[0].header: expected an HTTP header name, got "x y"']],
  ['DestinationRule credentialName', dr({ mode: 'SIMPLE', credentialName: 'c' }), ['DestinationRule prod/d: spec.trafficPolicy.tls.credentialName: not supported by tsmesh']],
  ['DestinationRule MUTUAL without files', dr({ mode: 'MUTUAL' }),
    ['DestinationRule prod/d: spec.trafficPolicy.tls.clientCertificate: required with mode MUTUAL', 'DestinationRule prod/d: spec.trafficPolicy.tls.privateKey: required with mode MUTUAL']],
  ['DestinationRule tls mode', dr({ mode: 'MTLS' }), ['DestinationRule prod/d: spec.trafficPolicy.tls.mode: expected one of DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL, got "MTLS"']],
  ['MeshConfig rootNamespace', { apiVersion: 'tsmesh.io/v1', kind: 'MeshConfig', metadata: { name: 'mesh' }, spec: { rootNamespace: 'Istio System' } },
    ['MeshConfig default/mesh: spec.rootNamespace: expected a DNS-1123 label (lowercase letters, digits, "-", at most 63), got "Istio System"']],
];

for (const [what, value, expected] of BAD) {
  test(`security validation refuses: ${what}`, () => {
    assert.deepEqual(messages(value), expected);
  });
}

const GOOD: [string, unknown][] = [
  ['mesh-wide STRICT', pa({ mtls: { mode: 'STRICT' } })],
  ['port-level', pa({ selector: { matchLabels: { app: 'x' } }, mtls: { mode: 'STRICT' }, portLevelMtls: { 8080: { mode: 'DISABLE' } } })],
  ['allow nothing', ap({})],
  ['allow all', ap({ rules: [{}] })],
  ['Istio docs example', ap({
    selector: { matchLabels: { app: 'httpbin', version: 'v1' } },
    action: 'ALLOW',
    rules: [{
      from: [{ source: { principals: ['cluster.local/ns/default/sa/curl'] } }, { source: { namespaces: ['test'] } }],
      to: [{ operation: { methods: ['GET'], paths: ['/info*'] } }, { operation: { methods: ['POST'], paths: ['/data'] } }],
      when: [{ key: 'request.auth.claims[iss]', values: ['https://accounts.google.com'] }],
    }],
  })],
  ['DENY with not-fields', ap({ action: 'DENY', rules: [{ from: [{ source: { notNamespaces: ['foo'], notIpBlocks: ['10.0.0.0/8'] } }], to: [{ operation: { notPaths: ['/healthz'] } }] }] })],
  ['jwt rule', ra({ selector: { matchLabels: { app: 'x' } }, jwtRules: [{ issuer: 'https://issuer', jwksUri: 'https://issuer/keys', audiences: ['a'], fromHeaders: [{ name: 'x-jwt', prefix: 'Bearer ' }], fromParams: ['token'], outputPayloadToHeader: 'x-payload', forwardOriginalToken: true, outputClaimToHeaders: [{ header: 'x-sub', claim: 'sub' }] }] })],
  ['DestinationRule ISTIO_MUTUAL with SANs', dr({ mode: 'ISTIO_MUTUAL', sni: 'x', subjectAltNames: ['spiffe://cluster.local/ns/a/sa/b'] })],
  ['v1beta1', { ...pa({ mtls: { mode: 'PERMISSIVE' } }), apiVersion: 'security.istio.io/v1beta1' }],
];

for (const [what, value] of GOOD) {
  test(`security validation accepts: ${what}`, () => {
    assert.deepEqual(messages(value), []);
  });
}

test('security kinds resolve by name, plural and short name', () => {
  assert.equal(resolveKind('pa'), 'PeerAuthentication');
  assert.equal(resolveKind('authorizationpolicies'), 'AuthorizationPolicy');
  assert.equal(resolveKind('requestauthentication'), 'RequestAuthentication');
});
