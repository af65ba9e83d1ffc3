import type { DescMessage } from '@bufbuild/protobuf';
import { Bootstrap_StaticResourcesSchema } from '../../envoy/generated/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { TransportSocketSchema, DataSourceSchema } from '../../envoy/generated/envoy/config/core/v3/base_pb.js';
import { ConfigSourceSchema } from '../../envoy/generated/envoy/config/core/v3/config_source_pb.js';
import { FilterChainSchema } from '../../envoy/generated/envoy/config/listener/v3/listener_components_pb.js';
import { ClusterSchema, Cluster_TransportSocketMatchSchema } from '../../envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { LbEndpointSchema } from '../../envoy/generated/envoy/config/endpoint/v3/endpoint_components_pb.js';
import { HttpConnectionManagerSchema, HttpConnectionManager_SetCurrentClientCertDetailsSchema } from '../../envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { CommonTlsContextSchema, CommonTlsContext_CombinedCertificateValidationContextSchema, DownstreamTlsContextSchema, UpstreamTlsContextSchema } from '../../envoy/generated/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { CertificateValidationContextSchema, SubjectAltNameMatcherSchema, TlsCertificateSchema, TlsParametersSchema } from '../../envoy/generated/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import { SdsSecretConfigSchema, SecretSchema } from '../../envoy/generated/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { RawBufferSchema } from '../../envoy/generated/envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer_pb.js';
import { StringMatcherSchema } from '../../envoy/generated/envoy/type/matcher/v3/string_pb.js';

/** The TLS fields tsmesh implements (transport sockets, secrets, XFCC). Merged into SUPPORTED. */
export const TLS_SUPPORT: ReadonlyArray<readonly [DescMessage, string]> = [
  [Bootstrap_StaticResourcesSchema, 'secrets'],
  [SecretSchema, 'name tls_certificate validation_context'],
  [FilterChainSchema, 'transport_socket'],
  [ClusterSchema, 'transport_socket transport_socket_matches'],
  [Cluster_TransportSocketMatchSchema, 'name match transport_socket'],
  [LbEndpointSchema, 'metadata'],
  [TransportSocketSchema, 'name typed_config'],
  [RawBufferSchema, '*'],
  [DownstreamTlsContextSchema, 'common_tls_context require_client_certificate'],
  [UpstreamTlsContextSchema, 'common_tls_context sni'],
  [CommonTlsContextSchema, 'tls_params tls_certificates tls_certificate_sds_secret_configs validation_context validation_context_sds_secret_config combined_validation_context alpn_protocols'],
  [CommonTlsContext_CombinedCertificateValidationContextSchema, 'default_validation_context validation_context_sds_secret_config'],
  [TlsParametersSchema, 'tls_minimum_protocol_version tls_maximum_protocol_version'],
  [TlsCertificateSchema, 'certificate_chain private_key'],
  [CertificateValidationContextSchema, 'trusted_ca match_subject_alt_names match_typed_subject_alt_names'],
  [SubjectAltNameMatcherSchema, 'san_type matcher'],
  [StringMatcherSchema, 'exact prefix suffix contains safe_regex ignore_case'],
  [SdsSecretConfigSchema, 'name sds_config'],
  [ConfigSourceSchema, 'api_config_source'],
  [DataSourceSchema, 'filename inline_bytes inline_string'],
  [HttpConnectionManagerSchema, 'forward_client_cert_details set_current_client_cert_details'],
  [HttpConnectionManager_SetCurrentClientCertDetailsSchema, 'subject cert chain dns uri'],
];
