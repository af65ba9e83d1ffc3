import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { CertificateValidationContextSchema, SubjectAltNameMatcher_SanType } from '../../../src/envoy/generated/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import { compileSanMatchers, parseSubjectAltName, sansMatch, type PeerSans } from '../../../src/proxy/tls/san-match.js';
import { rfc2253Subject } from '../../../src/proxy/tls/subject.js';

const PEER: PeerSans = { uri: ['spiffe://cluster.local/ns/default/sa/client'], dns: ['api.example.com'], email: [], ip: ['10.0.0.1'] };
type M = Parameters<typeof create<typeof CertificateValidationContextSchema>>[1];

const CASES: [string, M, boolean][] = [
  ['no matcher accepts any certificate', {}, true],
  ['exact URI', { matchSubjectAltNames: [{ matchPattern: { case: 'exact', value: 'spiffe://cluster.local/ns/default/sa/client' } }] }, true],
  ['exact, other identity', { matchSubjectAltNames: [{ matchPattern: { case: 'exact', value: 'spiffe://cluster.local/ns/default/sa/other' } }] }, false],
  ['prefix (a namespace)', { matchSubjectAltNames: [{ matchPattern: { case: 'prefix', value: 'spiffe://cluster.local/ns/default/' } }] }, true],
  ['suffix', { matchSubjectAltNames: [{ matchPattern: { case: 'suffix', value: '/sa/client' } }] }, true],
  ['contains', { matchSubjectAltNames: [{ matchPattern: { case: 'contains', value: '/ns/other/' } }] }, false],
  ['safe_regex, whole value', { matchSubjectAltNames: [{ matchPattern: { case: 'safeRegex', value: { regex: 'spiffe://[^/]+/ns/default/sa/.*' } } }] }, true],
  ['safe_regex must match all of it', { matchSubjectAltNames: [{ matchPattern: { case: 'safeRegex', value: { regex: 'ns/default' } } }] }, false],
  ['untyped matchers look at DNS SANs too', { matchSubjectAltNames: [{ matchPattern: { case: 'exact', value: 'api.example.com' } }] }, true],
  ['one of several', { matchSubjectAltNames: [{ matchPattern: { case: 'exact', value: 'x' } }, { matchPattern: { case: 'prefix', value: 'spiffe://' } }] }, true],
  ['typed URI does not look at DNS', { matchTypedSubjectAltNames: [{ sanType: SubjectAltNameMatcher_SanType.URI, matcher: { matchPattern: { case: 'exact', value: 'api.example.com' } } }] }, false],
  ['typed DNS', { matchTypedSubjectAltNames: [{ sanType: SubjectAltNameMatcher_SanType.DNS, matcher: { matchPattern: { case: 'exact', value: 'api.example.com' } } }] }, true],
  ['typed IP', { matchTypedSubjectAltNames: [{ sanType: SubjectAltNameMatcher_SanType.IP_ADDRESS, matcher: { matchPattern: { case: 'exact', value: '10.0.0.1' } } }] }, true],
  ['typed list wins over the untyped one', { matchTypedSubjectAltNames: [{ sanType: SubjectAltNameMatcher_SanType.DNS, matcher: { matchPattern: { case: 'exact', value: 'nope' } } }], matchSubjectAltNames: [{ matchPattern: { case: 'prefix', value: 'spiffe://' } }] }, false],
];

for (const [name, v, expected] of CASES) {
  test(name, () => {
    assert.equal(sansMatch(compileSanMatchers(create(CertificateValidationContextSchema, v), 'vc'), PEER), expected);
  });
}

test('a wildcard DNS SAN covers one label for an exact DNS matcher', () => {
  const m = compileSanMatchers(create(CertificateValidationContextSchema, { matchTypedSubjectAltNames: [{ sanType: SubjectAltNameMatcher_SanType.DNS, matcher: { matchPattern: { case: 'exact', value: 'a.example.com' } } }] }), 'vc');
  assert.equal(sansMatch(m, { uri: [], dns: ['*.example.com'], email: [], ip: [] }), true);
  const deeper = compileSanMatchers(create(CertificateValidationContextSchema, { matchTypedSubjectAltNames: [{ sanType: SubjectAltNameMatcher_SanType.DNS, matcher: { matchPattern: { case: 'exact', value: 'a.b.example.com' } } }] }), 'vc');
  assert.equal(sansMatch(deeper, { uri: [], dns: ['*.example.com'], email: [], ip: [] }), false);
});

test('a bad matcher is refused with its path', () => {
  assert.throws(() => compileSanMatchers(create(CertificateValidationContextSchema, { matchTypedSubjectAltNames: [{ sanType: SubjectAltNameMatcher_SanType.SAN_TYPE_UNSPECIFIED, matcher: { matchPattern: { case: 'exact', value: 'x' } } }] }), 'ctx'), /ctx\.match_typed_subject_alt_names\[0\]\.san_type/);
  assert.throws(() => compileSanMatchers(create(CertificateValidationContextSchema, { matchSubjectAltNames: [{ matchPattern: { case: 'prefix', value: '' } }] }), 'ctx'), /ctx\.match_subject_alt_names\[0\]\.prefix: must not be empty/);
});

test('Node\'s subjectaltname text is parsed by type, quoted values unquoted', () => {
  assert.deepEqual(parseSubjectAltName('URI:spiffe://td/ns/a/sa/b, DNS:x.example, IP Address:10.1.2.3, email:a@b.c, DNS:"we,ird"'), { uri: ['spiffe://td/ns/a/sa/b'], dns: ['x.example', 'we,ird'], email: ['a@b.c'], ip: ['10.1.2.3'] });
  assert.deepEqual(parseSubjectAltName(undefined), { uri: [], dns: [], email: [], ip: [] });
});

test('subjects print in RFC 2253 order with escapes, as Envoy prints them', () => {
  assert.equal(rfc2253Subject('C=US\nST=CA\nO=Acme, Inc.\nCN=client'), 'CN=client,O=Acme\\, Inc.,ST=CA,C=US');
  assert.equal(rfc2253Subject(''), '');
});
