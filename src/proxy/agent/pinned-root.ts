/*
 * A joining proxy has a token and nothing else: no CA file. The token pins the control plane's
 * root by hash (as kubeadm's --discovery-token-ca-cert-hash), so the proxy opens a TLS
 * connection without verifying it, takes the chain the server presents, finds the root with the
 * pinned hash in it and checks the chain up to that root and the server's name itself. Only
 * then is that root trusted, for the real (verified) connections that follow.
 */
import { X509Certificate, createHash } from 'node:crypto';
import tls, { type DetailedPeerCertificate } from 'node:tls';

/** The control plane cannot be verified against the token's pin: the reason. */
export class PinnedRootError extends Error {}

/**
 * The pinned root (PEM) of the control plane at host:port, after checking that the server's
 * certificate chains to it and names `serverName`. Rejects with PinnedRootError.
 */
export async function fetchPinnedRoot(host: string, port: number, rootHash: string, serverName: string, timeoutMs = 10_000): Promise<string> {
  const chain = await presentedChain(host, port, serverName, timeoutMs);
  return verifyPinnedChain(chain, rootHash, serverName, new Date());
}

/** The check itself, on the DER certificates a server presented (leaf first). Pure. */
export function verifyPinnedChain(chain: readonly Uint8Array[], rootHash: string, serverName: string, now: Date): string {
  const want = rootHash.replace(/^sha256:/, '');
  const rootIndex = chain.findIndex((d) => createHash('sha256').update(d).digest('hex') === want);
  if (rootIndex < 0) throw new PinnedRootError(`the server's certificate chain holds no root with the token's hash ${rootHash}: it is not the control plane that issued the token (or its root was rotated: create a new token)`);
  const certs = chain.slice(0, rootIndex + 1).map((d) => new X509Certificate(d));
  const root = certs[rootIndex]!;
  if (!root.ca || !root.verify(root.publicKey)) throw new PinnedRootError('the pinned certificate is not a self-signed CA certificate');
  // Node hands the chain over linked by issuer (leaf, its issuer, ...), so each link is checked in turn.
  for (let i = 0; i < rootIndex; i++) {
    if (!certs[i]!.checkIssued(certs[i + 1]!) || !certs[i]!.verify(certs[i + 1]!.publicKey)) {
      throw new PinnedRootError(`the server's certificate ${i} is not signed by the next one in its chain`);
    }
  }
  for (const c of certs) {
    if (new Date(c.validFrom) > now || new Date(c.validTo) <= now) throw new PinnedRootError(`a certificate in the server's chain is not valid now (${c.validFrom} to ${c.validTo})`);
  }
  if (!certs[0]!.checkHost(serverName)) throw new PinnedRootError(`the server's certificate is not for ${serverName}`);
  return root.toString();
}

function presentedChain(host: string, port: number, serverName: string, timeoutMs: number): Promise<Uint8Array[]> {
  return new Promise((resolve, reject) => {
    // Not verified here on purpose: the pin is checked on what the server presents.
    const socket = tls.connect({ host, port, servername: serverName, rejectUnauthorized: false, ALPNProtocols: ['h2'] });
    const timer = setTimeout(() => { socket.destroy(); reject(new PinnedRootError(`no TLS handshake with ${host}:${port} within ${timeoutMs} ms`)); }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const out: Uint8Array[] = [];
      let c: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
      const seen = new Set<string>();
      while (c && c.raw && !seen.has(c.fingerprint256)) {
        seen.add(c.fingerprint256);
        out.push(new Uint8Array(c.raw));
        c = c.issuerCertificate;
      }
      socket.destroy();
      resolve(out);
    });
    socket.once('error', (e) => { clearTimeout(timer); reject(new PinnedRootError(`TLS to ${host}:${port}: ${e.message}`)); });
  });
}
