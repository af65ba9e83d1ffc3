import { create, type JsonValue } from '@bufbuild/protobuf';
import { anyPack, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { SecretsConfigDumpSchema, SecretsConfigDump_DynamicSecretSchema, SecretsConfigDump_StaticSecretSchema, type SecretsConfigDump } from '../../envoy/generated/envoy/admin/v3/config_dump_pb.js';
import { SecretSchema } from '../../envoy/generated/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import type { SecretRef, SecretStore } from './secret-store.js';

/** Envoy shows every string under a sensitive field (a private key) as this. */
export const REDACTED = '[redacted]';

/**
 * /config_dump's SecretsConfigDump: the bootstrap's secrets as static, the others (the agent's,
 * sds-grpc) as dynamic active ones with their version, and names a transport socket waits for
 * as dynamic warming. Private keys are redacted as Envoy redacts them.
 */
export function secretsConfigDump(store: SecretStore, staticNames: ReadonlySet<string>, referenced: readonly SecretRef[]): SecretsConfigDump {
  const staticSecrets = [];
  const dynamicActiveSecrets = [];
  const secret = (name: string, kind: SecretRef['kind']) => {
    if (kind === 'tls_certificate') {
      const s = store.getTlsCertificate(name)!;
      return { s, msg: create(SecretSchema, { name, type: { case: 'tlsCertificate', value: { certificateChain: { specifier: { case: 'inlineString', value: s.value.certificateChainPem } }, privateKey: { specifier: { case: 'inlineString', value: REDACTED } } } } }) };
    }
    const s = store.getValidationContext(name)!;
    return { s, msg: create(SecretSchema, { name, type: { case: 'validationContext', value: { trustedCa: { specifier: { case: 'inlineString', value: s.value.trustedCaPem } } } } }) };
  };
  const all: [string, SecretRef['kind']][] = [...[...store.tlsCertificates()].map(([n]) => [n, 'tls_certificate'] as [string, SecretRef['kind']]), ...[...store.validationContexts()].map(([n]) => [n, 'validation_context'] as [string, SecretRef['kind']])];
  for (const [name, kind] of all) {
    const { s, msg } = secret(name, kind);
    const lastUpdated = timestampFromDate(s.updatedAt);
    if (staticNames.has(name)) staticSecrets.push(create(SecretsConfigDump_StaticSecretSchema, { name, lastUpdated, secret: anyPack(SecretSchema, msg) }));
    else dynamicActiveSecrets.push(create(SecretsConfigDump_DynamicSecretSchema, { name, versionInfo: String(s.version), lastUpdated, secret: anyPack(SecretSchema, msg) }));
  }
  const warming = new Set(referenced.filter((r) => !store.has(r.kind, r.name)).map((r) => r.name));
  const dynamicWarmingSecrets = [...warming].map((name) => create(SecretsConfigDump_DynamicSecretSchema, { name }));
  return create(SecretsConfigDumpSchema, { staticSecrets, dynamicActiveSecrets, dynamicWarmingSecrets });
}

/**
 * Replaces every string under a `privateKey` / `private_key` key of a JSON config dump (inline
 * keys in the bootstrap's secrets, listeners and clusters) with `[redacted]`.
 */
export function redactPrivateKeys(v: JsonValue, under = false): JsonValue {
  if (typeof v === 'string') return under ? REDACTED : v;
  if (Array.isArray(v)) return v.map((x) => redactPrivateKeys(x, under));
  if (v && typeof v === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const [k, x] of Object.entries(v)) out[k] = redactPrivateKeys(x, under || k === 'privateKey' || k === 'private_key');
    return out;
  }
  return v;
}
