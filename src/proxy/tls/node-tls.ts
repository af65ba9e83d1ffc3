import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { nodeCrypto } from '../../pki/node-crypto.js';
import type tls from 'node:tls';
import type { PemSource, TlsContextSpec } from './context-config.js';
import type { SecretStore } from './secret-store.js';

/*
 * node:tls is loaded by the first TLS context, not at start-up: a proxy without TLS keeps the
 * memory it costs (the same reason the HTTP/2 health checker loads node:http2 lazily).
 */
let mod: typeof tls | undefined;
export function nodeTls(): typeof tls {
  return (mod ??= createRequire(import.meta.url)('node:tls') as typeof tls);
}

export function readPem(s: PemSource): string {
  return 'inline' in s ? s.inline : readFileSync(s.filename, 'latin1');
}

/** The PEM material of a TLS context as it is now, or the name of the first secret it still lacks. */
export interface ContextMaterial {
  readonly certPem: string | undefined;
  readonly keyPem: string | undefined;
  readonly caPem: string | undefined;
  /** Changes whenever one of the secrets it was built from changes. */
  readonly key: string;
}

export function contextMaterial(spec: TlsContextSpec, store: SecretStore): ContextMaterial | { missing: string } {
  let certPem: string | undefined, keyPem: string | undefined, caPem: string | undefined;
  const parts: (string | number)[] = [];
  const c = spec.certificate;
  if (c?.kind === 'sds') {
    const s = store.getTlsCertificate(c.name);
    if (!s) return { missing: c.name };
    certPem = s.value.certificateChainPem;
    keyPem = s.value.privateKeyPem;
    parts.push(s.version);
  } else if (c) {
    certPem = readPem(c.chain);
    keyPem = readPem(c.key);
  }
  const t = spec.trust;
  if (t?.kind === 'sds') {
    const s = store.getValidationContext(t.name);
    if (!s) return { missing: t.name };
    caPem = s.value.trustedCaPem;
    parts.push(s.version);
  } else if (t) {
    caPem = readPem(t.ca);
  }
  return { certPem, keyPem, caPem, key: parts.join('/') };
}

/** createSecureContext options for `m` under `spec`'s protocol versions. */
export function secureContextOptions(spec: TlsContextSpec, m: ContextMaterial): tls.SecureContextOptions {
  return {
    ...(m.certPem !== undefined ? { cert: m.certPem } : {}),
    ...(m.keyPem !== undefined ? { key: m.keyPem } : {}),
    ...(m.caPem !== undefined ? { ca: m.caPem } : {}),
    minVersion: spec.minVersion,
    maxVersion: spec.maxVersion,
  };
}

/** The URI SANs of a PEM certificate chain's first certificate (XFCC `By=`). */
export function localUriSans(certPem: string | undefined): string[] {
  if (!certPem) return [];
  try {
    const text = new (nodeCrypto().X509Certificate)(certPem).subjectAltName ?? '';
    return [...text.matchAll(/URI:([^,]*)/g)].map((m) => m[1]!);
  } catch {
    return [];
  }
}
