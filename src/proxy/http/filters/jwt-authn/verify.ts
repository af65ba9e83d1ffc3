import { constants, createHmac, timingSafeEqual, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import type { Jwt } from './jwt.js';
import type { Jwk, Jwks } from './jwks.js';
import { JwtStatus } from './status.js';

const HASH: Readonly<Record<string, string>> = {
  RS256: 'sha256', RS384: 'sha384', RS512: 'sha512',
  PS256: 'sha256', PS384: 'sha384', PS512: 'sha512',
  ES256: 'sha256', ES384: 'sha384', ES512: 'sha512',
  HS256: 'sha256', HS384: 'sha384', HS512: 'sha512',
};

/**
 * Envoy's verifyJwtWithoutTimeChecking: the keys whose kid (when both have one) and alg (when
 * the key pins one) fit the JWT are tried in order; none fitting is JwksKidAlgMismatch, none
 * verifying is JwtVerificationFail.
 */
export function verifySignature(jwt: Jwt, jwks: Jwks): JwtStatus {
  const data = Buffer.from(`${jwt.headerB64}.${jwt.payloadB64}`, 'latin1');
  let fitted = false;
  for (const k of jwks.keys) {
    if (jwt.kid && k.kid && k.kid !== jwt.kid) continue;
    if (k.alg && k.alg !== jwt.alg) continue;
    fitted = true;
    if (verifyWith(k, jwt.alg, data, jwt.signature)) return JwtStatus.Ok;
  }
  return fitted ? JwtStatus.JwtVerificationFail : JwtStatus.JwksKidAlgMismatch;
}

function verifyWith(k: Jwk, alg: string, data: Buffer, sig: Buffer): boolean {
  const family = alg.slice(0, 2);
  try {
    switch (k.kty) {
      case 'RSA':
        if (family === 'RS') return cryptoVerify(HASH[alg]!, data, k.key!, sig);
        if (family === 'PS') return cryptoVerify(HASH[alg]!, data, { key: k.key!, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, sig);
        return false;
      case 'EC':
        // JWS ECDSA signatures are r||s (IEEE P1363), not DER.
        return family === 'ES' && ecMatches(k.key!, alg) && cryptoVerify(HASH[alg]!, data, { key: k.key!, dsaEncoding: 'ieee-p1363' }, sig);
      case 'oct': {
        if (family !== 'HS') return false;
        const mac = createHmac(HASH[alg]!, k.secret!).update(data).digest();
        return mac.length === sig.length && timingSafeEqual(mac, sig);
      }
      case 'OKP':
        return alg === 'EdDSA' && sig.length === 64 && cryptoVerify(null, data, k.key!, sig);
    }
  } catch {
    return false;
  }
}

const CURVE_OF: Readonly<Record<string, string>> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };

function ecMatches(key: KeyObject, alg: string): boolean {
  return key.asymmetricKeyDetails?.namedCurve === CURVE_OF[alg];
}
