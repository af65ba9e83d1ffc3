import type { X509Certificate } from 'node:crypto';
import { nodeCrypto } from '../../pki/node-crypto.js';
import type { TlsContextSpec, PemSource } from './context-config.js';
import { contextMaterial } from './node-tls.js';
import type { SecretStore } from './secret-store.js';

/** One certificate as Envoy's /certs shows it (admin.v3.CertificateDetails, proto3 JSON names). */
export interface CertificateDetails {
  path: string;
  serial_number: string;
  subject_alt_names: ({ uri: string } | { dns: string } | { ip_address: string } | { email: string })[];
  days_until_expiration: string;
  valid_from: string;
  expiration_time: string;
}

/** The certificates of one TLS context: its trusted CAs and the chain it presents. */
export interface CertificateEntry {
  ca_cert: CertificateDetails[];
  cert_chain: CertificateDetails[];
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Envoy's /certs: `{ certificates: [{ ca_cert, cert_chain }] }`, one entry per distinct TLS
 * context in use (contexts on the same secrets are shown once). A context still waiting for a
 * secret shows what it has. `now` is the clock, for days_until_expiration.
 */
export function certsJson(contexts: Iterable<TlsContextSpec>, store: SecretStore, now: number): { certificates: CertificateEntry[] } {
  const seen = new Set<string>();
  const certificates: CertificateEntry[] = [];
  for (const spec of contexts) {
    const key = JSON.stringify([spec.certificate, spec.trust]);
    if (seen.has(key)) continue;
    seen.add(key);
    const m = contextMaterial(spec, store);
    const certPem = 'missing' in m ? undefined : m.certPem;
    const caPem = 'missing' in m ? undefined : m.caPem;
    certificates.push({
      ca_cert: details(caPem, pathOf(spec.trust?.kind === 'inline' ? spec.trust.ca : undefined), now),
      cert_chain: details(certPem, pathOf(spec.certificate?.kind === 'inline' ? spec.certificate.chain : undefined), now),
    });
  }
  return { certificates };
}

/** Envoy prints `<inline>` for certificates that came inline or from SDS. */
function pathOf(s: PemSource | undefined): string {
  return s && 'filename' in s ? s.filename : '<inline>';
}

function details(pem: string | undefined, path: string, now: number): CertificateDetails[] {
  if (!pem) return [];
  return (pem.match(PEM_BLOCK) ?? []).flatMap((block) => {
    let x: X509Certificate;
    try { x = new (nodeCrypto().X509Certificate)(block); } catch { return []; }
    const to = Date.parse(x.validTo);
    return [{
      path,
      serial_number: x.serialNumber.toLowerCase(),
      subject_alt_names: sans(x.subjectAltName),
      days_until_expiration: String(Math.max(0, Math.floor((to - now) / 86_400_000))),
      valid_from: new Date(Date.parse(x.validFrom)).toISOString().replace('.000Z', 'Z'),
      expiration_time: new Date(to).toISOString().replace('.000Z', 'Z'),
    }];
  });
}

function sans(text: string | undefined): CertificateDetails['subject_alt_names'] {
  if (!text) return [];
  return text.split(', ').flatMap((s): CertificateDetails['subject_alt_names'] => {
    const i = s.indexOf(':');
    const t = s.slice(0, i), v = s.slice(i + 1);
    if (t === 'URI') return [{ uri: v }];
    if (t === 'DNS') return [{ dns: v }];
    if (t === 'IP Address') return [{ ip_address: v }];
    if (t === 'email') return [{ email: v }];
    return [];
  });
}
