import { execFileSync } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCertificate, keyIdentifier, spkiOf, subjectOf, toPem } from '../../src/pki/x509.js';

/** A certificate authority made with the openssl CLI (ECDSA P-256, as the mesh's). */
export interface TestCa {
  readonly certPem: string;
  readonly keyPem: string;
  /** Issues a leaf certificate. `days` < 0 gives one that has already expired. */
  issue(opts: { cn?: string; uri?: string[]; dns?: string[]; days?: number }): { certPem: string; keyPem: string };
  /** Issues a leaf certificate that expires `seconds` from now (signed by our own x509 code). */
  issueShortLived(opts: { uri: string[]; seconds: number }): { certPem: string; keyPem: string };
  cleanup(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function makeCa(cn = 'test-ca'): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'tsmesh-ca-'));
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', `/O=tsmesh test/CN=${cn}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  let n = 0;
  return {
    certPem: readFileSync(join(dir, 'ca.pem'), 'latin1'),
    keyPem: readFileSync(join(dir, 'ca.key'), 'latin1'),
    issue({ cn, uri = [], dns = [], days = 1 }) {
      const id = `leaf${++n}`;
      openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${id}.key`, '-out', `${id}.csr`, '-subj', cn ? `/O=tsmesh test/CN=${cn}` : '/'], dir);
      const sans = [...uri.map((u) => `URI:${u}`), ...dns.map((d) => `DNS:${d}`)];
      const ext = ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth,clientAuth', ...(sans.length ? [`subjectAltName=${sans.join(',')}`] : [])];
      writeFileSync(join(dir, `${id}.ext`), ext.join('\n') + '\n');
      openssl(['x509', '-req', '-in', `${id}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${id}.pem`, '-days', String(days), '-extfile', `${id}.ext`], dir);
      return { certPem: readFileSync(join(dir, `${id}.pem`), 'latin1'), keyPem: readFileSync(join(dir, `${id}.key`), 'latin1') };
    },
    issueShortLived({ uri, seconds }) {
      const caDer = new Uint8Array(new X509Certificate(this.certPem).raw);
      const leaf = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      const spki = new Uint8Array(leaf.publicKey.export({ type: 'spki', format: 'der' }));
      const now = Date.now();
      const der = buildCertificate({
        serial: new Uint8Array([0x01, ...randomBytes(15)]),
        subject: { O: 'tsmesh test' },
        notBefore: new Date(now - 60_000),
        notAfter: new Date(now + seconds * 1000),
        publicKeySpki: spki,
        isCa: false,
        san: { uris: uri },
      }, { subjectDer: subjectOf(caDer), key: createPrivateKey(this.keyPem), keyId: keyIdentifier(spkiOf(caDer)) }, keyIdentifier(spki));
      return { certPem: toPem('CERTIFICATE', der), keyPem: leaf.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A PEM string as a YAML double-quoted scalar (bootstraps embed certificates inline). */
export function yamlString(pem: string): string {
  return JSON.stringify(pem);
}
