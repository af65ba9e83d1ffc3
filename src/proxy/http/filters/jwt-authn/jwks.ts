import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import { JwtStatus } from './status.js';

/** One usable key of a JWKS. */
export interface Jwk {
  readonly kid: string;
  /** '' when the key does not pin an algorithm. */
  readonly alg: string;
  readonly kty: 'RSA' | 'EC' | 'oct' | 'OKP';
  /** The public key (RSA, EC, OKP). */
  readonly key?: KeyObject;
  /** The shared secret (oct, for HS*). */
  readonly secret?: Buffer;
}

export interface Jwks {
  readonly keys: readonly Jwk[];
}

const EC_CURVE: Readonly<Record<string, string>> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };

/**
 * Parses a JSON Web Key Set as Envoy's Jwks::createFrom(JWKS) does: keys it cannot use are
 * skipped; a set left without any is JwksNoValidKeys. Never throws.
 */
export function parseJwks(text: string): Jwks | JwtStatus {
  let doc: JsonValue;
  try { doc = JSON.parse(text) as JsonValue; } catch { return JwtStatus.JwksParseError; }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return JwtStatus.JwksParseError;
  const keys = doc.keys;
  if (keys === undefined) return JwtStatus.JwksNoKeys;
  if (!Array.isArray(keys)) return JwtStatus.JwksBadKeys;
  const out: Jwk[] = [];
  for (const k of keys) {
    if (k === null || typeof k !== 'object' || Array.isArray(k)) continue;
    const jwk = toJwk(k);
    if (jwk) out.push(jwk);
  }
  return out.length === 0 ? JwtStatus.JwksNoValidKeys : { keys: out };
}

function str(o: JsonObject, k: string): string | undefined {
  const v = o[k];
  return typeof v === 'string' ? v : undefined;
}

function toJwk(k: JsonObject): Jwk | undefined {
  const kty = str(k, 'kty');
  const alg = str(k, 'alg') ?? '';
  const kid = str(k, 'kid') ?? '';
  if (k.alg !== undefined && typeof k.alg !== 'string') return undefined;
  if (k.kid !== undefined && typeof k.kid !== 'string') return undefined;
  try {
    switch (kty) {
      case 'RSA': {
        if (alg && !alg.startsWith('RS') && !alg.startsWith('PS')) return undefined;
        const n = str(k, 'n'), e = str(k, 'e');
        if (!n || !e) return undefined;
        return { kid, alg, kty, key: createPublicKey({ key: { kty, n, e } as JsonWebKey, format: 'jwk' }) };
      }
      case 'EC': {
        if (alg && !alg.startsWith('ES')) return undefined;
        const crv = str(k, 'crv') ?? EC_CURVE[alg];
        if (!crv || (alg && EC_CURVE[alg] !== crv)) return undefined;
        const x = str(k, 'x'), y = str(k, 'y');
        if (!x || !y) return undefined;
        return { kid, alg, kty, key: createPublicKey({ key: { kty, crv, x, y } as JsonWebKey, format: 'jwk' }) };
      }
      case 'oct': {
        if (alg && !alg.startsWith('HS')) return undefined;
        const s = str(k, 'k');
        if (!s) return undefined;
        return { kid, alg, kty, secret: Buffer.from(s, 'base64url') };
      }
      case 'OKP': {
        if (alg && alg !== 'EdDSA') return undefined;
        const crv = str(k, 'crv'), x = str(k, 'x');
        if (crv !== 'Ed25519' || !x) return undefined;
        return { kid, alg, kty, key: createPublicKey({ key: { kty, crv, x } as JsonWebKey, format: 'jwk' }) };
      }
      default:
        return undefined;
    }
  } catch {
    // A key node:crypto cannot import (bad point, bad modulus) is skipped like Envoy skips it.
    return undefined;
  }
}
