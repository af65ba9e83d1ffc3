/**
 * Bootstraps for a sidecar pair talking mTLS as Istio configures Envoy (contract 3 of the
 * design): the client sidecar's cluster picks TLS by endpoint metadata (tlsMode: istio), the
 * server sidecar's inbound listener tells TLS from plaintext with the tls_inspector.
 */

export const SDS = '{ api_config_source: { api_type: GRPC, transport_api_version: V3, grpc_services: [ { envoy_grpc: { cluster_name: sds-grpc } } ] }, resource_api_version: V3 }';

export interface Identity { certPem: string; keyPem: string; caPem: string }

export function staticSecrets(id: Identity): string {
  return `
  secrets:
  - name: default
    tls_certificate: { certificate_chain: { inline_string: ${JSON.stringify(id.certPem)} }, private_key: { inline_string: ${JSON.stringify(id.keyPem)} } }
  - name: ROOTCA
    validation_context: { trusted_ca: { inline_string: ${JSON.stringify(id.caPem)} } }`;
}

/** A DownstreamTlsContext transport socket on the mesh secrets; peers must have a SAN matching `sanMatcher` (YAML). */
export function downstreamTls(sanMatcher: string | undefined, requireClientCertificate = true): string {
  return `
      transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          require_client_certificate: ${requireClientCertificate}
          common_tls_context:
            alpn_protocols: [h2, http/1.1]
            tls_certificate_sds_secret_configs: [ { name: default, sds_config: ${SDS} } ]
            combined_validation_context:
              default_validation_context: { ${sanMatcher ? `match_subject_alt_names: [ ${sanMatcher} ]` : ''} }
              validation_context_sds_secret_config: { name: ROOTCA, sds_config: ${SDS} }`;
}

/** An UpstreamTlsContext transport socket (Istio's tlsMode-istio one). */
export function upstreamTls(expectSan: string, sni: string, alpn: string[] = ['istio-peer-exchange', 'istio']): string {
  return `{ name: envoy.transport_sockets.tls, typed_config: { "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext, sni: "${sni}", common_tls_context: { alpn_protocols: [${alpn.map((a) => `"${a}"`).join(', ')}], tls_certificate_sds_secret_configs: [ { name: default, sds_config: ${SDS} } ], combined_validation_context: { default_validation_context: { match_subject_alt_names: [ { exact: "${expectSan}" } ] }, validation_context_sds_secret_config: { name: ROOTCA, sds_config: ${SDS} } } } } }`;
}

export const HCM_XFCC = 'forward_client_cert_details: APPEND_FORWARD, set_current_client_cert_details: { subject: true, uri: true, dns: true }';

/** An HTTP connection manager (AUTO codec) routing everything to `cluster`. */
export function hcm(statPrefix: string, cluster: string, extra = ''): string {
  return `{ name: envoy.filters.network.http_connection_manager, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager, stat_prefix: ${statPrefix}, ${extra ? `${extra}, ` : ''}route_config: { virtual_hosts: [ { name: all, domains: ["*"], routes: [ { match: { prefix: "/" }, route: { cluster: "${cluster}" } } ] } ] }, http_filters: [ { name: envoy.filters.http.router, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } } ] } }`;
}

export function tcpProxy(statPrefix: string, cluster: string): string {
  return `{ name: envoy.filters.network.tcp_proxy, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: ${statPrefix}, cluster: "${cluster}" } }`;
}

export const TLS_INSPECTOR = `
    listener_filters:
    - name: envoy.filters.listener.tls_inspector
      typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector }`;

/** A STATIC cluster of one endpoint; with `tls`, Istio's auto-mTLS transport_socket_matches and the endpoint marked tlsMode: istio. */
export function cluster(name: string, port: number, opts: { tls?: string; http2?: boolean; tlsMode?: boolean } = {}): string {
  const h2 = opts.http2 ? `
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions: { "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, explicit_http_config: { http2_protocol_options: {} } }` : '';
  const matches = opts.tls ? `
    transport_socket_matches:
    - { name: tlsMode-istio, match: { tlsMode: istio }, transport_socket: ${opts.tls} }
    - { name: tlsMode-disabled, match: {}, transport_socket: { name: envoy.transport_sockets.raw_buffer, typed_config: { "@type": type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer } } }` : '';
  const meta = opts.tls && opts.tlsMode !== false ? ', metadata: { filter_metadata: { envoy.transport_socket_match: { tlsMode: istio } } }' : '';
  return `
  - name: "${name}"
    type: STATIC
    connect_timeout: 2s${h2}${matches}
    load_assignment: { cluster_name: "${name}", endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${port} } } }${meta} } ] } ] }`;
}

export function listener(name: string, port: number, chains: string, inspector = false): string {
  return `
  - name: ${name}
    address: { socket_address: { address: 127.0.0.1, port_value: ${port} } }${inspector ? TLS_INSPECTOR : ''}
    filter_chains:${chains}`;
}

export const ADMIN = 'admin: { address: { socket_address: { address: 127.0.0.1, port_value: ADMIN_PORT } } }';
