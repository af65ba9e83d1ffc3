/*
 * `istio.v1.auth.IstioCertificateService/CreateCertificate` on the control plane's TLS port.
 * The caller authenticates with `authorization: Bearer <join token>` (joining) or with a
 * workload certificate this CA issued, over mutual TLS (renewing); the certificate is for that
 * identity only.
 */
import * as grpc from '@grpc/grpc-js';
import { CREATE_CERTIFICATE_PATH, decodeRequest, encodeResponse } from '../../pki/ca-proto.js';
import { TokenError, verifyJoinToken } from '../../pki/join-token.js';
import { spiffeId, type WorkloadIdentity } from '../../pki/spiffe.js';
import { CaRefusal, type CertificateAuthority } from './authority.js';
import type { TokenAuthority } from './tokens.js';

type Identity = Omit<WorkloadIdentity, 'trustDomain'>;

export interface CaServiceImplementation extends grpc.UntypedServiceImplementation {
  CreateCertificate: grpc.handleUnaryCall<Uint8Array, Uint8Array>;
}

export const caServiceDefinition: grpc.ServiceDefinition<CaServiceImplementation> = {
  CreateCertificate: {
    path: CREATE_CERTIFICATE_PATH, requestStream: false, responseStream: false, originalName: 'createCertificate',
    requestSerialize: (b: Uint8Array) => Buffer.from(b),
    requestDeserialize: (b: Buffer) => new Uint8Array(b),
    responseSerialize: (b: Uint8Array) => Buffer.from(b),
    responseDeserialize: (b: Buffer) => new Uint8Array(b),
  },
};

class Denied extends Error {
  constructor(readonly code: grpc.status, message: string) { super(message); }
}

/** The handler; `log` hears every issuance and refusal (with the reason the client also gets). */
export function caServiceImplementation(ca: CertificateAuthority, tokens: TokenAuthority, log: { info(s: string): void; warn(s: string): void }, clock: () => Date = () => new Date()): CaServiceImplementation {
  return {
    CreateCertificate: (call, callback) => {
      ca.counters.csr++;
      const now = clock();
      try {
        const id = authenticate(call, ca, tokens, now);
        const req = decodeRequest(call.request);
        const chain = ca.signWorkload(req.csr, id.identity, req.validityDurationSeconds, now);
        log.info(`ca: issued a certificate for ${spiffeId({ trustDomain: ca.trustDomain, ...id.identity })} (${id.via}, peer ${call.getPeer()})`);
        callback(null, encodeResponse({ certChain: chain }));
      } catch (e) {
        ca.counters.refused++;
        const status = e instanceof Denied ? e.code
          : e instanceof CaRefusal ? (e.code === 'permission-denied' ? grpc.status.PERMISSION_DENIED : grpc.status.INVALID_ARGUMENT)
          : grpc.status.INTERNAL;
        const message = e instanceof Error ? e.message : String(e);
        log.warn(`ca: refused a certificate request from ${call.getPeer()}: ${message}`);
        callback({ code: status, details: message });
      }
    },
  };
}

function authenticate(call: grpc.ServerUnaryCall<Uint8Array, Uint8Array>, ca: CertificateAuthority, tokens: TokenAuthority, now: Date): { identity: Identity; via: string } {
  const auth = call.metadata.get('authorization')[0];
  if (typeof auth === 'string' && auth !== '') {
    const m = /^Bearer\s+(\S+)$/i.exec(auth);
    if (!m) throw new Denied(grpc.status.UNAUTHENTICATED, 'authorization: expected "Bearer <join token>"');
    try {
      const c = verifyJoinToken(m[1]!, tokens.publicKey, { now: Math.floor(now.getTime() / 1000), trustDomain: ca.trustDomain, isRevoked: (jti) => tokens.isRevoked(jti) });
      return { identity: { namespace: c.ns, serviceAccount: c.sa }, via: `join token ${c.jti}` };
    } catch (e) {
      if (e instanceof TokenError) throw new Denied(grpc.status.UNAUTHENTICATED, `join token refused (${e.code}): ${e.message}`);
      throw e;
    }
  }
  const peer = call.getAuthContext()?.sslPeerCertificate;
  if (peer?.raw) {
    const id = ca.identityOfClientCert(new Uint8Array(peer.raw), now);
    if (typeof id === 'string') throw new Denied(grpc.status.UNAUTHENTICATED, id);
    return { identity: id, via: 'client certificate' };
  }
  throw new Denied(grpc.status.UNAUTHENTICATED, 'no credentials: send "authorization: Bearer <join token>" or present a workload certificate over mutual TLS');
}
