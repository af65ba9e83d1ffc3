/*
 * TLS transport sockets as Istio generates them for sidecars: the workload certificate and the
 * mesh roots come over SDS as secrets `default` and `ROOTCA` from the proxy's own agent (the
 * `sds-grpc` source, which tsmesh's proxy answers in-process, as pilot-agent does for Envoy).
 */
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { TransportSocketSchema, DataSourceSchema, type TransportSocket } from '../../envoy/generated/envoy/config/core/v3/base_pb.js';
import { ConfigSourceSchema, ApiConfigSourceSchema, ApiConfigSource_ApiType, ApiVersion, type ConfigSource } from '../../envoy/generated/envoy/config/core/v3/config_source_pb.js';
import { GrpcServiceSchema, GrpcService_EnvoyGrpcSchema } from '../../envoy/generated/envoy/config/core/v3/grpc_service_pb.js';
import {
  UpstreamTlsContextSchema, DownstreamTlsContextSchema, CommonTlsContextSchema, CommonTlsContext_CombinedCertificateValidationContextSchema, type CommonTlsContext,
} from '../../envoy/generated/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { SdsSecretConfigSchema, type SdsSecretConfig } from '../../envoy/generated/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { CertificateValidationContextSchema, TlsCertificateSchema } from '../../envoy/generated/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import { RawBufferSchema } from '../../envoy/generated/envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer_pb.js';
import { StringMatcherSchema } from '../../envoy/generated/envoy/type/matcher/v3/string_pb.js';
import type { ClientTLSSettings } from '../config/kinds.js';

export const TLS_SOCKET = 'envoy.transport_sockets.tls';
export const RAW_BUFFER_SOCKET = 'envoy.transport_sockets.raw_buffer';
export const SDS_CLUSTER = 'sds-grpc';
export const WORKLOAD_SECRET = 'default';
export const ROOT_SECRET = 'ROOTCA';
/** Istio's ALPN for mesh mTLS: the server tells mesh clients from other TLS clients by it. */
export const MTLS_ALPN: readonly string[] = ['istio-peer-exchange', 'istio'];
/**
 * What an inbound mTLS chain offers: HTTP/2 and HTTP/1.1, and `istio-peer-exchange` last so that
 * a mesh client of an HTTP/1.1 or TCP cluster (which offers only Istio's protocols) still has one
 * in common. Istio's inbound does the same (ALPNDownstreamWithMxc); Node's TLS server (unlike
 * Envoy) ends the handshake with no_application_protocol when nothing matches. Servers pick in
 * their own order, so an HTTP/2 client still negotiates h2.
 */
export const INBOUND_ALPN: readonly string[] = ['h2', 'http/1.1', 'istio-peer-exchange'];

/** `sds_config` naming the agent's in-process SDS (contract: api_config_source gRPC to `sds-grpc`). */
export const SDS_CONFIG: ConfigSource = create(ConfigSourceSchema, {
  configSourceSpecifier: {
    case: 'apiConfigSource',
    value: create(ApiConfigSourceSchema, {
      apiType: ApiConfigSource_ApiType.GRPC,
      transportApiVersion: ApiVersion.V3,
      grpcServices: [create(GrpcServiceSchema, { targetSpecifier: { case: 'envoyGrpc', value: create(GrpcService_EnvoyGrpcSchema, { clusterName: SDS_CLUSTER }) } })],
    }),
  },
  resourceApiVersion: ApiVersion.V3,
});

// Shared by every TLS context (outputs are immutable).
const WORKLOAD_SDS: SdsSecretConfig = create(SdsSecretConfigSchema, { name: WORKLOAD_SECRET, sdsConfig: SDS_CONFIG });
const ROOT_SDS: SdsSecretConfig = create(SdsSecretConfigSchema, { name: ROOT_SECRET, sdsConfig: SDS_CONFIG });

/** Workload certificate + mesh roots over SDS; the peer must present one of `sans` (any when empty). */
function meshCommonContext(alpn: readonly string[], sans: readonly string[]): CommonTlsContext {
  return create(CommonTlsContextSchema, {
    alpnProtocols: [...alpn],
    tlsCertificateSdsSecretConfigs: [WORKLOAD_SDS],
    validationContextType: {
      case: 'combinedValidationContext',
      value: create(CommonTlsContext_CombinedCertificateValidationContextSchema, {
        defaultValidationContext: create(CertificateValidationContextSchema, {
          matchSubjectAltNames: sans.map((s) => create(StringMatcherSchema, { matchPattern: { case: 'exact', value: s } })),
        }),
        validationContextSdsSecretConfig: ROOT_SDS,
      }),
    },
  });
}

/** Istio's SNI for mesh mTLS: `outbound_.PORT_.SUBSET_.HOST`. */
export function meshSni(port: number, subset: string, host: string): string {
  return `outbound_.${port}_.${subset}_.${host}`;
}

/** ISTIO_MUTUAL upstream: the workload certificate, the peer verified against the mesh roots and `sans`. */
export function istioMutualUpstream(sni: string, sans: readonly string[], http2: boolean): TransportSocket {
  const ctx = create(UpstreamTlsContextSchema, { sni, commonTlsContext: meshCommonContext(http2 ? [...MTLS_ALPN, 'h2'] : MTLS_ALPN, sans) });
  return create(TransportSocketSchema, { name: TLS_SOCKET, configType: { case: 'typedConfig', value: anyPack(UpstreamTlsContextSchema, ctx) } });
}

/**
 * DestinationRule SIMPLE / MUTUAL: certificates are files on the proxy's host (Istio's sidecar
 * semantics for clientCertificate / privateKey / caCertificates). Without caCertificates the
 * peer is not verified, as in Istio (which warns about it).
 */
export function userTlsUpstream(tls: ClientTLSSettings, sni: string | undefined, http2: boolean): TransportSocket {
  const file = (filename: string) => create(DataSourceSchema, { specifier: { case: 'filename', value: filename } });
  const common = create(CommonTlsContextSchema, { alpnProtocols: http2 ? ['h2'] : [] });
  if (tls.mode === 'MUTUAL' && tls.clientCertificate && tls.privateKey) {
    common.tlsCertificates = [create(TlsCertificateSchema, { certificateChain: file(tls.clientCertificate), privateKey: file(tls.privateKey) })];
  }
  if (tls.caCertificates && !tls.insecureSkipVerify) {
    common.validationContextType = {
      case: 'validationContext',
      value: create(CertificateValidationContextSchema, {
        trustedCa: file(tls.caCertificates),
        matchSubjectAltNames: (tls.subjectAltNames ?? []).map((s) => create(StringMatcherSchema, { matchPattern: { case: 'exact', value: s } })),
      }),
    };
  }
  const ctx = create(UpstreamTlsContextSchema, { sni: tls.sni ?? sni ?? '', commonTlsContext: common });
  return create(TransportSocketSchema, { name: TLS_SOCKET, configType: { case: 'typedConfig', value: anyPack(UpstreamTlsContextSchema, ctx) } });
}

/** TLS to a host outside the mesh verified against the system roots (e.g. a jwksUri over https). */
export function systemTrustUpstream(sni: string): TransportSocket {
  return userTlsUpstream({ mode: 'SIMPLE', caCertificates: SYSTEM_CA_BUNDLE, subjectAltNames: [] }, sni, false);
}

/** Debian's CA bundle (the `ca-certificates` package), which Istio's proxy image also uses. */
export const SYSTEM_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** The inbound mTLS chain's socket: the client must present a certificate from the mesh roots. */
export function istioMutualDownstream(): TransportSocket {
  return DOWNSTREAM_MTLS;
}

// Shared by every inbound chain (outputs are immutable).
const DOWNSTREAM_MTLS = create(TransportSocketSchema, {
  name: TLS_SOCKET,
  configType: {
    case: 'typedConfig',
    value: anyPack(DownstreamTlsContextSchema, create(DownstreamTlsContextSchema, { requireClientCertificate: true, commonTlsContext: meshCommonContext(INBOUND_ALPN, []) })),
  },
});

export const RAW_BUFFER: TransportSocket = create(TransportSocketSchema, { name: RAW_BUFFER_SOCKET, configType: { case: 'typedConfig', value: anyPack(RawBufferSchema, create(RawBufferSchema)) } });
