import { nodeCrypto } from '../../../pki/node-crypto.js';
import type { HeaderMap } from '../headers.js';
import type { TlsConnectionInfo } from '../../tls/downstream-tls.js';

export type ForwardClientCert = 'SANITIZE' | 'FORWARD_ONLY' | 'APPEND_FORWARD' | 'SANITIZE_SET' | 'ALWAYS_FORWARD_ONLY';

/** set_current_client_cert_details: which peer certificate facts go into the appended element. */
export interface ClientCertDetails {
  readonly subject: boolean;
  readonly cert: boolean;
  readonly chain: boolean;
  readonly dns: boolean;
  readonly uri: boolean;
}

export const XFCC = 'x-forwarded-client-cert';

/**
 * Envoy's x-forwarded-client-cert handling (ConnectionManagerUtility::mutateXfccRequestHeader):
 * ALWAYS_FORWARD_ONLY keeps the header as it came; without a client certificate every other
 * mode removes it; with one, FORWARD_ONLY keeps it, SANITIZE removes it, APPEND_FORWARD appends
 * this hop's element (`By=<our URI SAN>;Hash=<sha256 of the peer cert>;...`) after a comma and
 * SANITIZE_SET replaces the header with it. Pure apart from the hash.
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/headers#x-forwarded-client-cert
 */
export function mutateXfcc(mode: ForwardClientCert, details: ClientCertDetails, tls: TlsConnectionInfo | undefined, h: HeaderMap): void {
  if (mode === 'ALWAYS_FORWARD_ONLY') return;
  if (!tls?.peerCertificateDer || mode === 'SANITIZE') { h.remove(XFCC); return; }
  if (mode === 'FORWARD_ONLY') return;
  const el = connectionElement(details, tls);
  const prev = mode === 'APPEND_FORWARD' ? h.get(XFCC) : undefined;
  h.set(XFCC, prev ? `${prev},${el}` : el);
}

// The element depends only on the connection and the connection manager's config: computed (a
// SHA-256 of the peer certificate, perhaps PEM and percent-encoding) once per connection, not
// per request.
const elements = new WeakMap<TlsConnectionInfo, { details: ClientCertDetails; element: string }>();

function connectionElement(details: ClientCertDetails, tls: TlsConnectionInfo): string {
  const cached = elements.get(tls);
  if (cached?.details === details) return cached.element;
  const element = xfccElement(details, tls);
  elements.set(tls, { details, element });
  return element;
}

/** One XFCC element for a verified peer, fields in Envoy's order. */
export function xfccElement(d: ClientCertDetails, tls: TlsConnectionInfo): string {
  const parts: string[] = [];
  const by = tls.localUriSans?.[0];
  if (by) parts.push(`By=${by}`);
  if (tls.peerCertificateDer) parts.push(`Hash=${nodeCrypto().createHash('sha256').update(tls.peerCertificateDer).digest('hex')}`);
  if (d.cert && tls.peerCertificateDer) parts.push(`Cert="${urlEncode(pem(tls.peerCertificateDer))}"`);
  if (d.chain && tls.peerCertificateDer) parts.push(`Chain="${urlEncode([tls.peerCertificateDer, ...(tls.peerChainDer ?? [])].map(pem).join(''))}"`);
  if (d.subject) parts.push(`Subject="${tls.peerSubject}"`);
  // The URI key is there even when the certificate has no URI SAN.
  if (d.uri) parts.push(`URI=${tls.peerUriSans[0] ?? ''}`);
  if (d.dns) for (const dns of tls.peerDnsSans) parts.push(`DNS=${dns}`);
  return parts.join(';');
}

function pem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN CERTIFICATE-----\n${b64.replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
}

/** Percent-encoding of everything but RFC 3986 unreserved characters, lower-case hex as Envoy writes it. */
function urlEncode(s: string): string {
  return s.replace(/[^A-Za-z0-9\-._~]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
