/*
 * Join tokens: how a new proxy proves to the CA which workload it is, and how it knows the
 * control plane is the real one before it trusts anything the network says (as kubeadm's
 * `--discovery-token-ca-cert-hash`).
 *
 * A token is a JWT (RFC 7519) signed with ES256 by the control plane's token key:
 *   header  { alg: "ES256", typ: "JWT", kid }
 *   payload { iss: "tsmesh", sub: "spiffe://TD/ns/NS/sa/SA", ns, sa, td, iat, exp, jti,
 *             rootHash: "sha256:HEX" }
 * `rootHash` is the SHA-256 of the mesh root certificate's DER. The proxy reads the payload
 * without verifying it (it has no key for that); the CA verifies everything. Pure (no I/O).
 */
import type { KeyObject } from 'node:crypto';
import { nodeCrypto } from './node-crypto.js';
import { invalidName, invalidTrustDomain, spiffeId } from './spiffe.js';

export interface JoinTokenClaims {
  readonly iss: 'tsmesh';
  readonly sub: string;
  readonly ns: string;
  readonly sa: string;
  readonly td: string;
  /** Seconds since the epoch. */
  readonly iat: number;
  readonly exp: number;
  /** The token's id: what `tsmesh token revoke` names. */
  readonly jti: string;
  readonly rootHash: string;
}

/** Why a token is refused; `code` is stable, for tests and metrics. */
export class TokenError extends Error {
  constructor(readonly code: 'malformed' | 'bad-signature' | 'expired' | 'revoked' | 'not-yet-valid' | 'wrong-trust-domain', message: string) {
    super(message);
  }
}

/** The hash a token pins: `sha256:` and the hex SHA-256 of the root certificate's DER. */
export function rootHashOf(rootDer: Uint8Array): string {
  return `sha256:${nodeCrypto().createHash('sha256').update(rootDer).digest('hex')}`;
}

const b64 = (b: Uint8Array | string): string => Buffer.from(b).toString('base64url');

export interface NewToken {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly trustDomain: string;
  readonly ttlSeconds: number;
  readonly rootHash: string;
  /** Seconds since the epoch. */
  readonly now: number;
}

/** A signed token and its claims. Throws RangeError for a name or ttl that cannot be. */
export function createJoinToken(t: NewToken, key: KeyObject, kid: string): { token: string; claims: JoinTokenClaims } {
  for (const problem of [invalidName('namespace', t.namespace), invalidName('service account', t.serviceAccount), invalidTrustDomain(t.trustDomain)]) {
    if (problem) throw new RangeError(problem);
  }
  if (!Number.isInteger(t.ttlSeconds) || t.ttlSeconds <= 0) throw new RangeError(`ttl must be a positive number of seconds, got ${t.ttlSeconds}`);
  const claims: JoinTokenClaims = {
    iss: 'tsmesh',
    sub: spiffeId({ trustDomain: t.trustDomain, namespace: t.namespace, serviceAccount: t.serviceAccount }),
    ns: t.namespace,
    sa: t.serviceAccount,
    td: t.trustDomain,
    iat: t.now,
    exp: t.now + t.ttlSeconds,
    jti: nodeCrypto().randomBytes(12).toString('hex'),
    rootHash: t.rootHash,
  };
  const signingInput = `${b64(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid }))}.${b64(JSON.stringify(claims))}`;
  const sig = nodeCrypto().sign('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' });
  return { token: `${signingInput}.${b64(sig)}`, claims };
}

/** The claims of a well-formed token, signature NOT checked (what a joining proxy can do). */
export function readJoinToken(token: string): JoinTokenClaims {
  const parts = token.trim().split('.');
  if (parts.length !== 3) throw new TokenError('malformed', 'a join token has three dot-separated parts (a JWT)');
  let header: unknown, payload: unknown;
  try {
    header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8'));
    payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    throw new TokenError('malformed', 'the token\'s header or payload is not base64url JSON');
  }
  if (!isObject(header) || header['alg'] !== 'ES256') throw new TokenError('malformed', 'the token is not an ES256 JWT');
  if (!isObject(payload)) throw new TokenError('malformed', 'the token\'s payload is not an object');
  const str = (k: string): string => {
    const v = payload[k];
    if (typeof v !== 'string' || v === '') throw new TokenError('malformed', `the token has no ${k}`);
    return v;
  };
  const num = (k: string): number => {
    const v = payload[k];
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new TokenError('malformed', `the token has no ${k}`);
    return v;
  };
  const claims: JoinTokenClaims = { iss: 'tsmesh', sub: str('sub'), ns: str('ns'), sa: str('sa'), td: str('td'), iat: num('iat'), exp: num('exp'), jti: str('jti'), rootHash: str('rootHash') };
  if (payload['iss'] !== 'tsmesh') throw new TokenError('malformed', 'the token was not issued by tsmesh (iss)');
  if (!/^sha256:[0-9a-f]{64}$/.test(claims.rootHash)) throw new TokenError('malformed', 'the token\'s rootHash is not sha256:HEX');
  if (claims.sub !== spiffeId({ trustDomain: claims.td, namespace: claims.ns, serviceAccount: claims.sa })) throw new TokenError('malformed', 'the token\'s sub does not match its ns/sa/td');
  return claims;
}

/**
 * The claims of a token this CA issued and that is valid at `now` (seconds). Throws TokenError
 * naming what is wrong: forged (signature), expired, revoked, other trust domain.
 */
export function verifyJoinToken(token: string, publicKey: KeyObject, opts: { now: number; trustDomain: string; isRevoked: (jti: string) => boolean }): JoinTokenClaims {
  const claims = readJoinToken(token);
  const [h, p, s] = token.trim().split('.') as [string, string, string];
  const sig = Buffer.from(s, 'base64url');
  if (sig.length !== 64 || !nodeCrypto().verify('sha256', Buffer.from(`${h}.${p}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, sig)) {
    throw new TokenError('bad-signature', 'the token\'s signature does not verify: it was not issued by this control plane (or was altered)');
  }
  if (claims.td !== opts.trustDomain) throw new TokenError('wrong-trust-domain', `the token is for trust domain ${claims.td}, this CA serves ${opts.trustDomain}`);
  if (claims.exp <= opts.now) throw new TokenError('expired', `the token expired at ${new Date(claims.exp * 1000).toISOString()}`);
  if (claims.iat > opts.now + 300) throw new TokenError('not-yet-valid', `the token was issued in the future (${new Date(claims.iat * 1000).toISOString()})`);
  if (opts.isRevoked(claims.jti)) throw new TokenError('revoked', `the token ${claims.jti} was revoked`);
  return claims;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
