import type { DataSource } from '../../envoy/generated/envoy/config/core/v3/base_pb.js';
import type { ConfigSource } from '../../envoy/generated/envoy/config/core/v3/config_source_pb.js';
import { ApiConfigSource_ApiType } from '../../envoy/generated/envoy/config/core/v3/config_source_pb.js';
import type { CommonTlsContext, DownstreamTlsContext, UpstreamTlsContext } from '../../envoy/generated/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import type { CertificateValidationContext, TlsParameters } from '../../envoy/generated/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import { TlsParameters_TlsProtocol } from '../../envoy/generated/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import type { SdsSecretConfig } from '../../envoy/generated/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { nodeCrypto } from '../../pki/node-crypto.js';
import { ConfigError } from '../../envoy/registry.js';
import { compileSanMatchers, type SanMatcher } from './san-match.js';
import type { SecretRef } from './secret-store.js';

/** Where PEM text comes from: inline in the config, or a file read when the context is built. */
export type PemSource = { readonly inline: string } | { readonly filename: string };

/** The certificate a TLS context presents. */
export type CertificateSource =
  | { readonly kind: 'inline'; readonly chain: PemSource; readonly key: PemSource }
  | { readonly kind: 'sds'; readonly name: string };

/** The CA certificates a TLS context verifies its peer against. */
export type TrustSource = { readonly kind: 'inline'; readonly ca: PemSource } | { readonly kind: 'sds'; readonly name: string };

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/** A DownstreamTlsContext or UpstreamTlsContext, validated. Pure data: secrets are named, not read. */
export interface TlsContextSpec {
  readonly side: 'downstream' | 'upstream';
  readonly certificate: CertificateSource | undefined;
  /** Without one, the peer's certificate is not verified (Envoy: no validation context). */
  readonly trust: TrustSource | undefined;
  /** match_subject_alt_names / match_typed_subject_alt_names: the peer must have a SAN matching one. */
  readonly sanMatchers: readonly SanMatcher[];
  readonly alpn: readonly string[];
  /** Downstream: a client without a certificate is refused. */
  readonly requireClientCertificate: boolean;
  readonly minVersion: TlsVersion;
  readonly maxVersion: TlsVersion;
  /** Upstream: the SNI sent. */
  readonly sni: string;
  /** The SDS secrets it waits for (warming until all are present). */
  readonly secrets: readonly SecretRef[];
}

const VERSIONS: Record<number, TlsVersion | undefined> = {
  [TlsParameters_TlsProtocol.TLSv1_0]: 'TLSv1',
  [TlsParameters_TlsProtocol.TLSv1_1]: 'TLSv1.1',
  [TlsParameters_TlsProtocol.TLSv1_2]: 'TLSv1.2',
  [TlsParameters_TlsProtocol.TLSv1_3]: 'TLSv1.3',
};
const ORDER: readonly TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

export function compileDownstreamTlsContext(d: DownstreamTlsContext, path: string): TlsContextSpec {
  const c = compileCommon(d.commonTlsContext, 'downstream', `${path}.common_tls_context`);
  if (!c.certificate) throw new ConfigError(`${path}.common_tls_context`, 'a server TLS context needs tls_certificates or tls_certificate_sds_secret_configs');
  const requireClientCertificate = d.requireClientCertificate ?? false;
  if (requireClientCertificate && !c.trust) throw new ConfigError(`${path}.require_client_certificate`, 'requires a validation context with trusted_ca (validation_context, combined_validation_context or validation_context_sds_secret_config)');
  return { ...c, requireClientCertificate, sni: '' };
}

export function compileUpstreamTlsContext(u: UpstreamTlsContext, path: string): TlsContextSpec {
  const c = compileCommon(u.commonTlsContext, 'upstream', `${path}.common_tls_context`);
  if (u.sni.length > 255) throw new ConfigError(`${path}.sni`, 'longer than 255 characters');
  return { ...c, requireClientCertificate: false, sni: u.sni };
}

function compileCommon(c: CommonTlsContext | undefined, side: 'downstream' | 'upstream', path: string): Omit<TlsContextSpec, 'requireClientCertificate' | 'sni'> {
  const secrets: SecretRef[] = [];
  let certificate: CertificateSource | undefined;
  const inline = c?.tlsCertificates ?? [];
  const sds = c?.tlsCertificateSdsSecretConfigs ?? [];
  if (inline.length + sds.length > 1) throw new ConfigError(path, 'tsmesh supports one certificate per TLS context (tls_certificates or tls_certificate_sds_secret_configs, one entry)');
  if (inline.length === 1) {
    const t = inline[0]!;
    const p = `${path}.tls_certificates[0]`;
    certificate = { kind: 'inline', chain: pemSource(t.certificateChain, `${p}.certificate_chain`, 'certificates'), key: pemSource(t.privateKey, `${p}.private_key`, 'key') };
  } else if (sds.length === 1) {
    const name = sdsName(sds[0]!, `${path}.tls_certificate_sds_secret_configs[0]`);
    certificate = { kind: 'sds', name };
    secrets.push({ kind: 'tls_certificate', name });
  }
  let trust: TrustSource | undefined;
  let validation: CertificateValidationContext | undefined;
  const v = c?.validationContextType;
  if (v?.case === 'validationContext') {
    validation = v.value;
  } else if (v?.case === 'validationContextSdsSecretConfig') {
    const name = sdsName(v.value, `${path}.validation_context_sds_secret_config`);
    trust = { kind: 'sds', name };
  } else if (v?.case === 'combinedValidationContext') {
    const p = `${path}.combined_validation_context`;
    validation = v.value.defaultValidationContext;
    if (!v.value.validationContextSdsSecretConfig) throw new ConfigError(`${p}.validation_context_sds_secret_config`, 'required');
    if (validation?.trustedCa) throw new ConfigError(`${p}.default_validation_context.trusted_ca`, 'the trusted CA comes from validation_context_sds_secret_config here');
    trust = { kind: 'sds', name: sdsName(v.value.validationContextSdsSecretConfig, `${p}.validation_context_sds_secret_config`) };
  } else if (v?.case) {
    throw new ConfigError(`${path}.${v.case}`, 'certificate providers are not supported');
  }
  const vPath = v?.case === 'combinedValidationContext' ? `${path}.combined_validation_context.default_validation_context` : `${path}.validation_context`;
  if (validation?.trustedCa) trust = { kind: 'inline', ca: pemSource(validation.trustedCa, `${vPath}.trusted_ca`, 'certificates') };
  if (trust?.kind === 'sds') secrets.push({ kind: 'validation_context', name: trust.name });
  const sanMatchers = validation ? compileSanMatchers(validation, vPath) : [];
  if (sanMatchers.length > 0 && !trust) throw new ConfigError(`${vPath}.match_subject_alt_names`, 'subject alt name matching needs a trusted CA to verify the certificate against');
  const { min, max } = versions(c?.tlsParams, side, `${path}.tls_params`);
  return { side, certificate, trust, sanMatchers, alpn: c?.alpnProtocols ?? [], minVersion: min, maxVersion: max, secrets };
}

function versions(p: TlsParameters | undefined, side: 'downstream' | 'upstream', path: string): { min: TlsVersion; max: TlsVersion } {
  // Envoy's defaults: TLS 1.2 minimum; maximum TLS 1.2 for clients, TLS 1.3 for servers.
  const min = p?.tlsMinimumProtocolVersion ? VERSIONS[p.tlsMinimumProtocolVersion] : 'TLSv1.2';
  const max = p?.tlsMaximumProtocolVersion ? VERSIONS[p.tlsMaximumProtocolVersion] : side === 'upstream' ? 'TLSv1.2' : 'TLSv1.3';
  if (!min) throw new ConfigError(`${path}.tls_minimum_protocol_version`, `unknown value ${p?.tlsMinimumProtocolVersion}`);
  if (!max) throw new ConfigError(`${path}.tls_maximum_protocol_version`, `unknown value ${p?.tlsMaximumProtocolVersion}`);
  // An explicit minimum above the default maximum raises the maximum with it.
  const hi = p?.tlsMaximumProtocolVersion ? max : ORDER[Math.max(ORDER.indexOf(min), ORDER.indexOf(max))]!;
  if (ORDER.indexOf(min) > ORDER.indexOf(hi)) throw new ConfigError(`${path}.tls_minimum_protocol_version`, `${min} is above the maximum ${hi}`);
  return { min, max: hi };
}

/**
 * A DataSource holding PEM text (filename, inline_string, inline_bytes), validated: inline text
 * must parse as what it is meant to be (`kind`), so a broken certificate is refused with the
 * config, not at the first handshake. Files are read (and checked) when a context is built.
 */
export function pemSource(d: DataSource | undefined, path: string, kind: 'certificates' | 'key'): PemSource {
  const s = d?.specifier;
  if (s?.case === 'inlineString') return checked(s.value, `${path}.inline_string`, kind);
  if (s?.case === 'inlineBytes') return checked(Buffer.from(s.value).toString('latin1'), `${path}.inline_bytes`, kind);
  if (s?.case === 'filename') return { filename: s.value };
  throw new ConfigError(path, s?.case ? `${s.case} is not supported (filename, inline_string or inline_bytes)` : 'required');
}

/** The in-process SDS server of the proxy's agent, as Istio's bootstrap names it. */
export const SDS_CLUSTER = 'sds-grpc';

/**
 * A secret named by `sds_config`: none means a static secret (`static_resources.secrets`); a
 * gRPC api_config_source on the `sds-grpc` cluster is the in-process agent. Either way the
 * proxy's SecretStore resolves it. SDS over ADS is refused.
 */
function sdsName(s: SdsSecretConfig, path: string): string {
  if (!s.name) throw new ConfigError(`${path}.name`, 'required');
  if (s.sdsConfig) checkSdsSource(s.sdsConfig, `${path}.sds_config`);
  return s.name;
}

function checkSdsSource(c: ConfigSource, path: string): void {
  const spec = c.configSourceSpecifier;
  if (spec.case === 'ads') throw new ConfigError(`${path}.ads`, 'SDS over ADS is not supported: use the in-process source (api_config_source on cluster "sds-grpc") or static_resources.secrets');
  if (spec.case !== 'apiConfigSource') throw new ConfigError(path, `${spec.case ?? 'a config source'} is not supported for secrets: use api_config_source on cluster "${SDS_CLUSTER}"`);
  const a = spec.value;
  if (a.apiType !== ApiConfigSource_ApiType.GRPC) throw new ConfigError(`${path}.api_config_source.api_type`, 'only GRPC is supported for secrets');
  const names = a.grpcServices.map((g) => (g.targetSpecifier.case === 'envoyGrpc' ? g.targetSpecifier.value.clusterName : ''));
  if (names.length !== 1 || names[0] !== SDS_CLUSTER) throw new ConfigError(`${path}.api_config_source.grpc_services`, `secrets come from the proxy's in-process SDS: exactly one envoy_grpc { cluster_name: "${SDS_CLUSTER}" }`);
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function checked(pem: string, path: string, kind: 'certificates' | 'key'): PemSource {
  // A private key is never quoted back in the error.
  try {
    if (kind === 'key') nodeCrypto().createPrivateKey(pem);
    else {
      const certs = pem.match(PEM_CERT) ?? [];
      if (certs.length === 0) throw new Error('no PEM certificate found');
      for (const c of certs) new (nodeCrypto().X509Certificate)(c);
    }
  } catch (e) {
    throw new ConfigError(path, `not a valid PEM ${kind === 'key' ? 'private key' : 'certificate'}${kind === 'key' ? '' : `: ${(e as Error).message}`}`);
  }
  return { inline: pem };
}
