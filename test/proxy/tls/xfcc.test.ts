import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { HeaderMap } from '../../../src/proxy/http/headers.js';
import { mutateXfcc, xfccElement, type ForwardClientCert } from '../../../src/proxy/http/conn-manager/xfcc.js';
import type { TlsConnectionInfo } from '../../../src/proxy/tls/downstream-tls.js';

const DER = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]);
const HASH = createHash('sha256').update(DER).digest('hex');
const PEER: TlsConnectionInfo = {
  peerUriSans: ['spiffe://cluster.local/ns/a/sa/client'],
  peerDnsSans: ['client.a.svc', 'client'],
  peerSubject: 'CN=client,O=acme',
  peerCertificateDer: DER,
  localUriSans: ['spiffe://cluster.local/ns/b/sa/server'],
  version: 'TLSv1.3',
};
const ALL = { subject: true, cert: false, chain: false, dns: true, uri: true };
const NONE = { subject: false, cert: false, chain: false, dns: false, uri: false };
const ELEMENT = `By=spiffe://cluster.local/ns/b/sa/server;Hash=${HASH};Subject="CN=client,O=acme";URI=spiffe://cluster.local/ns/a/sa/client;DNS=client.a.svc;DNS=client`;

// Envoy's forward_client_cert_details table: [mode, peer?, incoming header, expected header].
const CASES: [ForwardClientCert, boolean, string | undefined, string | undefined][] = [
  ['SANITIZE', true, 'By=x', undefined],
  ['SANITIZE', false, 'By=x', undefined],
  ['FORWARD_ONLY', true, 'By=x', 'By=x'],
  ['FORWARD_ONLY', false, 'By=x', undefined],
  ['APPEND_FORWARD', true, 'By=x', `By=x,${ELEMENT}`],
  ['APPEND_FORWARD', true, undefined, ELEMENT],
  ['APPEND_FORWARD', false, 'By=x', undefined],
  ['SANITIZE_SET', true, 'By=x', ELEMENT],
  ['SANITIZE_SET', false, 'By=x', undefined],
  ['ALWAYS_FORWARD_ONLY', false, 'By=x', 'By=x'],
  ['ALWAYS_FORWARD_ONLY', true, 'By=x', 'By=x'],
];

for (const [mode, peer, incoming, expected] of CASES) {
  test(`${mode}, ${peer ? 'mTLS' : 'no client certificate'}, incoming ${incoming ?? 'none'}`, () => {
    const h = new HeaderMap();
    if (incoming) h.set('x-forwarded-client-cert', incoming);
    mutateXfcc(mode, ALL, peer ? PEER : undefined, h);
    assert.equal(h.get('x-forwarded-client-cert'), expected);
  });
}

test('only the details asked for; URI= is there even without a URI SAN; Cert and Chain are URL-encoded PEM', () => {
  assert.equal(xfccElement(NONE, PEER), `By=spiffe://cluster.local/ns/b/sa/server;Hash=${HASH}`);
  assert.equal(xfccElement({ ...NONE, uri: true }, { ...PEER, peerUriSans: [] }), `By=spiffe://cluster.local/ns/b/sa/server;Hash=${HASH};URI=`);
  const cert = xfccElement({ ...NONE, cert: true }, { ...PEER, localUriSans: [] });
  assert.equal(cert, `Hash=${HASH};Cert="-----BEGIN%20CERTIFICATE-----%0aMAMCAQE%3d%0a-----END%20CERTIFICATE-----%0a"`);
  const chain = xfccElement({ ...NONE, chain: true }, { ...PEER, localUriSans: [], peerChainDer: [DER] });
  assert.equal(chain.split('BEGIN').length - 1, 2, 'the peer certificate and its chain');
});
