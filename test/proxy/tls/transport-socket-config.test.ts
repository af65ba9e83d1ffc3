import { test, after } from 'node:test';
import { makeCa } from '../../support/certs.js';
import assert from 'node:assert/strict';
import { parseBootstrap } from '../../../src/envoy/bootstrap.js';
import { compileBootstrap } from '../../../src/proxy/config.js';
import { selectTransportSocket, type TransportSocketMatchSpec } from '../../../src/proxy/tls/transport-socket.js';
import { SDS } from '../../support/mtls.js';

const TCP = '{ name: envoy.filters.network.tcp_proxy, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: t, cluster: app } }';
const DTLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
const UTLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';

function bootstrap(chainSocket: string, clusterExtra = ''): string {
  return `
static_resources:
  listeners:
  - name: l
    address: { socket_address: { address: 127.0.0.1, port_value: 1 } }
    filter_chains:
    - filters: [ ${TCP} ]${chainSocket ? `
      transport_socket: ${chainSocket}` : ''}
  clusters:
  - name: app
    type: STATIC${clusterExtra}
    load_assignment: { cluster_name: app, endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 2 } } } } ] } ] }
`;
}

async function compile(yaml: string) {
  const { bootstrap: b, registry } = await parseBootstrap(yaml);
  return compileBootstrap(b, registry);
}

async function refused(yaml: string, message: RegExp): Promise<void> {
  await assert.rejects(compile(yaml), message);
}

test('an Istio-shaped DownstreamTlsContext compiles: SDS secrets, SAN matcher, ALPN, client certificate required', async () => {
  const spec = await compile(bootstrap(`{ name: envoy.transport_sockets.tls, typed_config: { "@type": ${DTLS}, require_client_certificate: true, common_tls_context: { alpn_protocols: [h2, http/1.1], tls_certificate_sds_secret_configs: [ { name: default, sds_config: ${SDS} } ], combined_validation_context: { default_validation_context: { match_subject_alt_names: [ { prefix: "spiffe://cluster.local/" } ] }, validation_context_sds_secret_config: { name: ROOTCA, sds_config: ${SDS} } } } } }`));
  const tls = spec.listeners[0]!.chains[0]!.tls!;
  assert.equal(tls.requireClientCertificate, true);
  assert.deepEqual(tls.alpn, ['h2', 'http/1.1']);
  assert.deepEqual(tls.secrets, [{ kind: 'tls_certificate', name: 'default' }, { kind: 'validation_context', name: 'ROOTCA' }]);
  assert.equal(tls.sanMatchers.length, 1);
  assert.equal(tls.minVersion, 'TLSv1.2');
  assert.equal(tls.maxVersion, 'TLSv1.3');
});

test('raw_buffer is plaintext; an UpstreamTlsContext defaults to TLS 1.2 as Envoy clients do', async () => {
  const spec = await compile(bootstrap('{ name: envoy.transport_sockets.raw_buffer, typed_config: { "@type": type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer } }', `
    transport_socket: { name: envoy.transport_sockets.tls, typed_config: { "@type": ${UTLS}, sni: app.example, common_tls_context: { tls_params: { tls_minimum_protocol_version: TLSv1_3 } } } }`));
  assert.equal(spec.listeners[0]!.chains[0]!.tls, undefined);
  const t = spec.clusters[0]!.transport.default!;
  assert.equal(t.sni, 'app.example');
  assert.equal(t.minVersion, 'TLSv1.3');
  assert.equal(t.maxVersion, 'TLSv1.3', 'a minimum above the default maximum raises it');
});

test('bad TLS config is refused with its path and reason', async () => {
  const ctx = (common: string, extra = '') => `{ name: envoy.transport_sockets.tls, typed_config: { "@type": ${DTLS}, ${extra}common_tls_context: { ${common} } } }`;
  await refused(bootstrap(ctx('alpn_protocols: [h2]')), /filter_chains\[0\]\.transport_socket\.typed_config\.common_tls_context: a server TLS context needs tls_certificates/);
  await refused(bootstrap(ctx('tls_certificate_sds_secret_configs: [ { name: default } ]', 'require_client_certificate: true, ')), /require_client_certificate: requires a validation context/);
  await refused(bootstrap(ctx('tls_certificate_sds_secret_configs: [ { name: default, sds_config: { ads: {} } } ]')), /tls_certificate_sds_secret_configs\[0\]\.sds_config\.ads: SDS over ADS is not supported/);
  await refused(bootstrap(ctx('tls_certificate_sds_secret_configs: [ { name: default, sds_config: { api_config_source: { api_type: GRPC, grpc_services: [ { envoy_grpc: { cluster_name: elsewhere } } ] } } } ]')), /grpc_services: secrets come from the proxy's in-process SDS/);
  await refused(bootstrap(ctx('tls_certificate_sds_secret_configs: [ { name: a }, { name: b } ]')), /one certificate per TLS context/);
  await refused(bootstrap(`{ name: envoy.transport_sockets.tls, typed_config: { "@type": ${UTLS} } }`), /transport_socket\.typed_config: unsupported transport socket .*DownstreamTlsContext or RawBuffer/);
  await refused(bootstrap(ctx('tls_certificate_sds_secret_configs: [ { name: default } ]', 'require_sni: true, ')), /require_sni: field is not supported by tsmesh/);
  await refused(bootstrap(ctx('tls_certificate_sds_secret_configs: [ { name: default } ], validation_context: { trusted_ca: { inline_string: x }, crl: { inline_string: y } }')), /validation_context\.crl: field is not supported/);
});

test('static secrets are validated: duplicates, broken PEM and unsupported kinds are refused with their index', async () => {
  const ca = makeCa();
  after(() => ca.cleanup());
  const pem = JSON.stringify(ca.certPem);
  const withSecrets = (s: string) => bootstrap('').replace('static_resources:', `static_resources:\n  secrets: ${s}`);
  await refused(withSecrets(`[ { name: a, validation_context: { trusted_ca: { inline_string: ${pem} } } }, { name: a, validation_context: { trusted_ca: { inline_string: ${pem} } } } ]`), /static_resources\.secrets\[1\]\.name: duplicate secret "a"/);
  await refused(withSecrets('[ { name: a, validation_context: { trusted_ca: { inline_string: "not a certificate" } } } ]'), /static_resources\.secrets\[0\]\.validation_context\.trusted_ca\.inline_string: not a valid PEM certificate/);
  const leaf = ca.issue({ uri: ['spiffe://x/ns/a/sa/b'] });
  await refused(withSecrets(`[ { name: d, tls_certificate: { certificate_chain: { inline_string: ${JSON.stringify(leaf.certPem)} }, private_key: { inline_string: "-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----\\n" } } } ]`), /secrets\[0\]\.tls_certificate\.private_key\.inline_string: not a valid PEM private key$/);
  await compile(withSecrets(`[ { name: d, tls_certificate: { certificate_chain: { inline_string: ${JSON.stringify(leaf.certPem)} }, private_key: { inline_string: ${JSON.stringify(leaf.keyPem)} } } } ]`));
  await refused(withSecrets('[ { name: k, generic_secret: { secret: { inline_string: x } } } ]'), /static_resources\.secrets\[0\]\.generic_secret: field is not supported/);
  const spec = await compile(withSecrets('[ { name: default, tls_certificate: { certificate_chain: { filename: /etc/certs/cert.pem }, private_key: { filename: /etc/certs/key.pem } } } ]'));
  assert.deepEqual(spec.secrets.tlsCertificates, [{ name: 'default', chain: { filename: '/etc/certs/cert.pem' }, key: { filename: '/etc/certs/key.pem' } }]);
});

test('transport_socket_matches: the first match whose keys all equal the endpoint metadata, else the default', () => {
  const m: TransportSocketMatchSpec[] = [
    { name: 'tlsMode-istio', match: { tlsMode: 'istio' }, tls: undefined },
    { name: 'two-keys', match: { a: '1', b: '2' }, tls: undefined },
    { name: 'tlsMode-disabled', match: {}, tls: undefined },
  ];
  assert.equal(selectTransportSocket(m, { tlsMode: 'istio' }), 0);
  assert.equal(selectTransportSocket(m, { tlsMode: 'istio', other: 'x' }), 0);
  assert.equal(selectTransportSocket(m, { a: '1', b: '2' }), 1);
  assert.equal(selectTransportSocket(m, { a: '1' }), 2);
  assert.equal(selectTransportSocket(m, undefined), 2);
  assert.equal(selectTransportSocket(m.slice(0, 2), { tlsMode: 'disabled' }), -1);
});
