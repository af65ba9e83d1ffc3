import type { Secret } from '../../envoy/generated/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { ConfigError } from '../../envoy/registry.js';
import { pemSource as pem, type PemSource } from './context-config.js';
import { readPem } from './node-tls.js';
import type { SecretStore } from './secret-store.js';

/** `static_resources.secrets`, validated: PEM sources by secret name. */
export interface StaticSecretsSpec {
  readonly tlsCertificates: readonly { readonly name: string; readonly chain: PemSource; readonly key: PemSource }[];
  readonly validationContexts: readonly { readonly name: string; readonly ca: PemSource }[];
}

/** Validates the bootstrap's static secrets. Pure. */
export function compileStaticSecrets(secrets: readonly Secret[], path: string): StaticSecretsSpec {
  const out = { tlsCertificates: [] as StaticSecretsSpec['tlsCertificates'][number][], validationContexts: [] as StaticSecretsSpec['validationContexts'][number][] };
  const seen = new Map<string, number>();
  secrets.forEach((s, i) => {
    const p = `${path}[${i}]`;
    if (!s.name) throw new ConfigError(`${p}.name`, 'required');
    const prev = seen.get(s.name);
    if (prev !== undefined) throw new ConfigError(`${p}.name`, `duplicate secret ${JSON.stringify(s.name)} (also ${path}[${prev}])`);
    seen.set(s.name, i);
    const t = s.type;
    if (t.case === 'tlsCertificate') {
      out.tlsCertificates.push({ name: s.name, chain: pem(t.value.certificateChain, `${p}.tls_certificate.certificate_chain`, 'certificates'), key: pem(t.value.privateKey, `${p}.tls_certificate.private_key`, 'key') });
    } else if (t.case === 'validationContext') {
      const v = t.value;
      if (v.matchSubjectAltNames.length || v.matchTypedSubjectAltNames.length) throw new ConfigError(`${p}.validation_context`, 'a validation context secret carries trusted_ca only in tsmesh; put SAN matchers in the transport socket\'s default_validation_context');
      out.validationContexts.push({ name: s.name, ca: pem(v.trustedCa, `${p}.validation_context.trusted_ca`, 'certificates') });
    } else {
      throw new ConfigError(`${p}.${t.case ?? 'type'}`, t.case ? `${t.case} secrets are not supported (tls_certificate, validation_context)` : 'tls_certificate or validation_context is required');
    }
  });
  return out;
}

/** Puts the static secrets into `store` (reads `filename` sources). */
export function loadStaticSecrets(store: SecretStore, spec: StaticSecretsSpec): void {
  const read = (src: PemSource, name: string): string => {
    try {
      return readPem(src);
    } catch (e) {
      throw new ConfigError(`static_resources.secrets[${name}]`, `cannot read ${'filename' in src ? src.filename : 'the PEM'}: ${(e as Error).message}`);
    }
  };
  for (const s of spec.tlsCertificates) store.setTlsCertificate(s.name, { certificateChainPem: read(s.chain, s.name), privateKeyPem: read(s.key, s.name) });
  for (const s of spec.validationContexts) store.setValidationContext(s.name, { trustedCaPem: read(s.ca, s.name) });
}
