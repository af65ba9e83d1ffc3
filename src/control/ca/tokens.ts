import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { createJoinToken, type JoinTokenClaims } from '../../pki/join-token.js';
import type { RevocationList } from './revocation.js';

/** Issues join tokens with the control plane's token key, and knows which are revoked. */
export class TokenAuthority {
  readonly publicKey: KeyObject;
  /** The key id in the token header: the first 16 hex digits of the public key's SHA-256. */
  readonly kid: string;

  constructor(readonly privateKey: KeyObject, readonly revocations: RevocationList) {
    this.publicKey = createPublicKey(privateKey);
    this.kid = createHash('sha256').update(this.publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
  }

  create(o: { namespace: string; serviceAccount: string; ttlSeconds: number; trustDomain: string; rootHash: string; now: Date }): { token: string; claims: JoinTokenClaims } {
    return createJoinToken({ ...o, now: Math.floor(o.now.getTime() / 1000) }, this.privateKey, this.kid);
  }

  isRevoked(jti: string): boolean {
    return this.revocations.isRevoked(jti);
  }
}
