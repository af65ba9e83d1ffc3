import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCertificate, buildCsr, CsrError, encodeName, fromPem, keyIdentifier, parseCsr, subjectOf, toPem } from '../../src/pki/x509.js';
import { decode, integer, oid, time, children, readOid, DerError } from '../../src/pki/der.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('DER primitives: golden encodings (X.690 examples)', () => {
  assert.equal(hex(integer(0n)), '020100');
  assert.equal(hex(integer(127n)), '02017f');
  assert.equal(hex(integer(128n)), '02020080', 'a set high bit gets a leading zero (non-negative)');
  assert.equal(hex(integer(Uint8Array.of(0, 0, 0x01))), '020101', 'leading zero bytes are dropped');
  assert.equal(hex(oid('1.2.840.10045.4.3.2')), '06082a8648ce3d040302');
  assert.equal(hex(oid('2.5.29.17')), '0603551d11');
  assert.equal(readOid(decode(oid('1.3.6.1.5.5.7.3.2'))), '1.3.6.1.5.5.7.3.2');
  assert.equal(hex(time(new Date('2026-11-27T10:00:00Z'))), `170d${Buffer.from('261127100000Z').toString('hex')}`);
  assert.equal(hex(time(new Date('2051-01-02T03:04:05Z'))), `180f${Buffer.from('20510102030405Z').toString('hex')}`, 'GeneralizedTime from 2050');
  const long = new Uint8Array(300);
  assert.equal(hex(decode(Uint8Array.of(0x04, 0x82, 0x01, 0x2c, ...long)).raw.subarray(0, 4)), '0482012c');
});

test('DER decoding refuses BER and malformed input', () => {
  assert.throws(() => decode(Uint8Array.of(0x30, 0x80, 0, 0)), DerError, 'indefinite length');
  assert.throws(() => decode(Uint8Array.of(0x04, 0x81, 0x05, 1, 2, 3, 4, 5)), /minimally/);
  assert.throws(() => decode(Uint8Array.of(0x04, 0x05, 1)), /past the end/);
  assert.throws(() => decode(Uint8Array.of(0x05, 0x00, 0x00)), /trailing/);
  assert.throws(() => children(decode(Uint8Array.of(0x04, 0x00))), /not constructed/);
});

function ca(key: KeyObject): { der: Uint8Array; subject: Uint8Array; keyId: Uint8Array } {
  const spki = generateSpki(key);
  const keyId = keyIdentifier(spki);
  const subject = encodeName({ O: 'cluster.local', CN: 'Test Root CA' });
  const der = buildCertificate({ serial: randomBytes(16), subject: { O: 'cluster.local', CN: 'Test Root CA' }, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 3600_000), publicKeySpki: spki, isCa: true }, { subjectDer: subject, key, keyId }, keyId);
  return { der, subject, keyId };
}

const publicOf = new Map<KeyObject, KeyObject>();
function keyPair(type: 'ec' | 'rsa'): KeyObject {
  const kp = type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  publicOf.set(kp.privateKey, kp.publicKey);
  return kp.privateKey;
}
function generateSpki(priv: KeyObject): Uint8Array {
  return new Uint8Array(publicOf.get(priv)!.export({ type: 'spki', format: 'der' }));
}

for (const caType of ['ec', 'rsa'] as const) {
  test(`a ${caType} root signs a workload certificate from a P-256 CSR: X509Certificate and openssl verify both`, () => {
    const caKey = keyPair(caType);
    const root = ca(caKey);
    const rootX = new X509Certificate(root.der);
    assert.ok(rootX.ca, 'basicConstraints cA');
    assert.ok(rootX.verify(publicOf.get(caKey)!), 'self-signature verifies');
    assert.equal(rootX.subject, 'O=cluster.local\nCN=Test Root CA');
    assert.deepEqual(subjectOf(root.der), root.subject);

    const wl = keyPair('ec');
    const spiffe = 'spiffe://cluster.local/ns/default/sa/reviews';
    const csrDer = buildCsr(wl, generateSpki(wl), {}, { uris: [spiffe] });
    const parsed = parseCsr(csrDer);
    assert.deepEqual(parsed.san, { uris: [spiffe], dns: [], ips: [] });

    const leaf = buildCertificate({
      serial: randomBytes(16), subject: {}, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 600_000),
      publicKeySpki: parsed.publicKeySpki, isCa: false, san: { uris: [spiffe], dns: ['reviews.default.svc'], ips: ['127.0.0.1', '::1'] },
    }, { subjectDer: root.subject, key: caKey, keyId: root.keyId }, keyIdentifier(parsed.publicKeySpki));
    const leafX = new X509Certificate(leaf);
    assert.ok(leafX.verify(rootX.publicKey), 'leaf verifies against the root');
    assert.ok(leafX.checkIssued(rootX));
    assert.equal(leafX.subjectAltName, `URI:${spiffe}, DNS:reviews.default.svc, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1`);
    assert.equal(leafX.ca, false);
    assert.equal(leafX.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');

    // An independent implementation agrees: openssl.
    const dir = mkdtempSync(join(tmpdir(), 'tsmesh-x509-'));
    try {
      writeFileSync(join(dir, 'root.pem'), toPem('CERTIFICATE', root.der));
      writeFileSync(join(dir, 'leaf.pem'), toPem('CERTIFICATE', leaf));
      writeFileSync(join(dir, 'csr.pem'), toPem('CERTIFICATE REQUEST', csrDer));
      const v = execFileSync('openssl', ['verify', '-x509_strict', '-purpose', 'sslclient', '-CAfile', join(dir, 'root.pem'), join(dir, 'leaf.pem')], { encoding: 'utf8' });
      assert.match(v, /leaf\.pem: OK/);
      const r = execFileSync('openssl', ['req', '-verify', '-noout', '-in', join(dir, 'csr.pem')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      assert.equal(r, '');
      const text = execFileSync('openssl', ['x509', '-noout', '-text', '-in', join(dir, 'leaf.pem')], { encoding: 'utf8' });
      assert.match(text, /TLS Web Server Authentication, TLS Web Client Authentication/);
      assert.match(text, /Digital Signature, Key Encipherment/);
      assert.match(text, /X509v3 Subject Alternative Name: critical/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.deepEqual(fromPem(toPem('CERTIFICATE', leaf) + toPem('CERTIFICATE', root.der), 'CERTIFICATE'), [leaf, root.der]);
  });
}

test('an openssl-made CSR parses; a tampered CSR and garbage are refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsmesh-csr-'));
  try {
    execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'r.pem'), '-subj', '/O=x', '-addext', 'subjectAltName=URI:spiffe://td/ns/a/sa/b,DNS:a.example,IP:10.0.0.1'], { stdio: 'ignore' });
    const der = fromPem(execFileSync('cat', [join(dir, 'r.pem')], { encoding: 'utf8' }), 'CERTIFICATE REQUEST')[0]!;
    assert.deepEqual(parseCsr(der).san, { uris: ['spiffe://td/ns/a/sa/b'], dns: ['a.example'], ips: ['10.0.0.1'] });
    const tampered = Uint8Array.from(der);
    const at = Buffer.from(tampered).indexOf(Buffer.from('a.example'));
    tampered[at] = 'b'.charCodeAt(0);
    assert.throws(() => parseCsr(tampered), (e: Error) => e instanceof CsrError && /signature does not verify/.test(e.message));
    assert.throws(() => parseCsr(Uint8Array.of(1, 2, 3)), (e: Error) => e instanceof CsrError && /not a PKCS#10 request/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
