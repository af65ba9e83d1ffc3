/*
 * The webhook's serving certificate. The API server calls the webhook over HTTPS and checks its
 * certificate against the caBundle of the MutatingWebhookConfiguration, so the control plane
 * either serves a given key pair (e.g. from cert-manager) or makes a self-signed ECDSA P-256
 * one once, keeps it in the data dir (stable across restarts, so the caBundle stays valid) and
 * publishes it for the operator to put into the caBundle (`tsmesh inject webhook-ca`).
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomically } from '../atomic-write.js';

export interface ServingCert {
  readonly certPem: string;
  readonly keyPem: string;
}

/** DNS names the self-signed certificate covers: the Services of deploy/kubernetes, and loopback. */
export const WEBHOOK_DNS_NAMES = ['tsmesh.tsmesh-system.svc', 'istiod.tsmesh-system.svc', 'tsmesh.tsmesh-system.svc.cluster.local', 'istiod.tsmesh-system.svc.cluster.local', 'localhost'];

/** Renewed when less than this is left. */
const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;

/** Reads a given key pair; throws with the file that cannot be used. */
export function readServingCert(certFile: string, keyFile: string): ServingCert {
  const certPem = readFileSync(certFile, 'utf8');
  const keyPem = readFileSync(keyFile, 'utf8');
  try { new X509Certificate(certPem); } catch (e) { throw new Error(`${certFile}: not a PEM certificate: ${(e as Error).message}`); }
  return { certPem, keyPem };
}

/**
 * The self-signed certificate kept in `dir` (`tls.crt`, `tls.key`), made with the openssl CLI
 * when missing, unreadable, not covering `dnsNames`, or expiring within 30 days.
 */
export function selfSignedServingCert(dir: string, dnsNames: readonly string[] = WEBHOOK_DNS_NAMES, now = Date.now()): ServingCert {
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  if (existsSync(certFile) && existsSync(keyFile)) {
    try {
      const cert = readServingCert(certFile, keyFile);
      const x = new X509Certificate(cert.certPem);
      const sans = x.subjectAltName ?? '';
      if (Date.parse(x.validTo) - now > RENEW_BEFORE_MS && dnsNames.every((d) => sans.includes(`DNS:${d}`))) return cert;
    } catch {
      // Made again below.
    }
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmpKey = join(dir, '.new.key');
  const tmpCrt = join(dir, '.new.crt');
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', tmpKey, '-out', tmpCrt, '-days', '3650', '-subj', '/O=tsmesh/CN=tsmesh-webhook',
      '-addext', `subjectAltName=${[...dnsNames.map((d) => `DNS:${d}`), 'IP:127.0.0.1', 'IP:::1'].join(',')}`,
      '-addext', 'keyUsage=critical,digitalSignature,keyCertSign',
      '-addext', 'extendedKeyUsage=serverAuth',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    const cert = { certPem: readFileSync(tmpCrt, 'utf8'), keyPem: readFileSync(tmpKey, 'utf8') };
    writeFileAtomically(keyFile, cert.keyPem);
    writeFileAtomically(certFile, cert.certPem);
    return cert;
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT') throw new Error('the openssl command is needed to make the webhook\'s self-signed certificate (or give --webhook-cert and --webhook-key)');
    throw new Error(`openssl could not make the webhook certificate: ${err.stderr?.toString().trim() || err.message}`);
  } finally {
    rmSync(tmpKey, { force: true });
    rmSync(tmpCrt, { force: true });
  }
}
