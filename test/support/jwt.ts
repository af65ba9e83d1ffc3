import { createHmac, generateKeyPairSync, sign, constants, type KeyObject } from 'node:crypto';

/** A signing key of a test issuer and its public JWK. */
export interface TestKey {
  readonly alg: string;
  readonly kid: string;
  readonly privateKey: KeyObject | Buffer;
  readonly jwk: Record<string, unknown>;
}

const B64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** A fresh key for `alg` (RS*, PS*, ES256/384/512, HS*, EdDSA) with its JWK (kid and alg set). */
export function testKey(alg: string, kid = `${alg.toLowerCase()}-key`): TestKey {
  if (alg.startsWith('HS')) {
    const secret = Buffer.from(`secret-for-${kid}-0123456789abcdef`);
    return { alg, kid, privateKey: secret, jwk: { kty: 'oct', k: B64(secret), kid, alg } };
  }
  const pair = alg.startsWith('RS') || alg.startsWith('PS')
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : alg === 'EdDSA'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('ec', { namedCurve: ({ ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' } as Record<string, string>)[alg]! });
  return { alg, kid, privateKey: pair.privateKey, jwk: { ...pair.publicKey.export({ format: 'jwk' }), kid, alg } };
}

/** A JWKS document holding these keys' public halves. */
export function jwksOf(...keys: TestKey[]): string {
  return JSON.stringify({ keys: keys.map((k) => k.jwk) });
}

const HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

/** Signs a compact JWS with `key` (its alg and kid in the header unless `header` overrides them). */
export function signJwt(key: TestKey, payload: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const h = B64(JSON.stringify({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header }));
  const p = B64(JSON.stringify(payload));
  const data = Buffer.from(`${h}.${p}`);
  const alg = key.alg;
  const bits = alg.slice(2);
  let sig: Buffer;
  if (alg.startsWith('HS')) sig = createHmac(HASH[bits]!, key.privateKey as Buffer).update(data).digest();
  else if (alg.startsWith('RS')) sig = sign(HASH[bits]!, data, key.privateKey as KeyObject);
  else if (alg.startsWith('PS')) sig = sign(HASH[bits]!, data, { key: key.privateKey as KeyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
  else if (alg.startsWith('ES')) sig = sign(HASH[bits]!, data, { key: key.privateKey as KeyObject, dsaEncoding: 'ieee-p1363' });
  else sig = sign(null, data, key.privateKey as KeyObject);
  return `${h}.${p}.${B64(sig)}`;
}

/** Seconds since the epoch. */
export const nowS = (): number => Math.floor(Date.now() / 1000);
