import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import { JwtStatus } from './status.js';

/** A JWT as parsed from its compact form (header.payload.signature), not yet verified. */
export interface Jwt {
  readonly headerB64: string;
  readonly payloadB64: string;
  readonly signature: Buffer;
  readonly header: JsonObject;
  readonly payload: JsonObject;
  readonly alg: string;
  /** '' when the header has none. */
  readonly kid: string;
  readonly iss: string;
  readonly sub: string;
  readonly audiences: readonly string[];
  /** Seconds since the epoch; 0 when absent. */
  readonly exp: number;
  readonly nbf: number;
  readonly iat: number;
}

/** The algorithms tsmesh verifies (Envoy's set). */
export const ALGORITHMS: ReadonlySet<string> = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'HS256', 'HS384', 'HS512', 'EdDSA']);

const B64URL = /^[A-Za-z0-9_-]*$/;

function decodeB64url(s: string): Buffer | undefined {
  // Envoy accepts unpadded base64url only (padding is not part of a JWS compact form).
  if (!B64URL.test(s) || s.length % 4 === 1) return undefined;
  return Buffer.from(s, 'base64url');
}

function parseObject(b64: string): JsonObject | 'base64' | 'json' {
  const raw = decodeB64url(b64);
  if (!raw) return 'base64';
  try {
    const v = JSON.parse(raw.toString('utf8')) as JsonValue;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : 'json';
  } catch {
    return 'json';
  }
}

/** A time claim: absent (0), or a positive integer of seconds. */
function timeClaim(v: JsonValue | undefined, notInt: JwtStatus, range: JwtStatus): number | JwtStatus {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v)) return notInt;
  if (v < 0 || v > Number.MAX_SAFE_INTEGER) return range;
  return v;
}

/** Parses a compact JWS as Envoy's Jwt::parseFromString does (same checks, same statuses). */
export function parseJwt(token: string): Jwt | JwtStatus {
  const parts = token.split('.');
  if (parts.length !== 3) return JwtStatus.JwtBadFormat;
  const [h, p, s] = parts as [string, string, string];
  const header = parseObject(h);
  if (header === 'base64') return JwtStatus.JwtHeaderParseErrorBadBase64;
  if (header === 'json') return JwtStatus.JwtHeaderParseErrorBadJson;
  const alg = header.alg;
  if (typeof alg !== 'string') return JwtStatus.JwtHeaderBadAlg;
  if (!ALGORITHMS.has(alg)) return JwtStatus.JwtHeaderNotImplementedAlg;
  const kid = header.kid;
  if (kid !== undefined && typeof kid !== 'string') return JwtStatus.JwtHeaderBadKid;
  const payload = parseObject(p);
  if (payload === 'base64') return JwtStatus.JwtPayloadParseErrorBadBase64;
  if (payload === 'json') return JwtStatus.JwtPayloadParseErrorBadJson;
  const { iss, sub, aud, jti } = payload;
  if (iss !== undefined && typeof iss !== 'string') return JwtStatus.JwtPayloadParseErrorIssNotString;
  if (sub !== undefined && typeof sub !== 'string') return JwtStatus.JwtPayloadParseErrorSubNotString;
  const iat = timeClaim(payload.iat, JwtStatus.JwtPayloadParseErrorIatNotInteger, JwtStatus.JwtPayloadParseErrorIatOutOfRange);
  if (typeof iat === 'string') return iat;
  const nbf = timeClaim(payload.nbf, JwtStatus.JwtPayloadParseErrorNbfNotInteger, JwtStatus.JwtPayloadParseErrorNbfOutOfRange);
  if (typeof nbf === 'string') return nbf;
  const exp = timeClaim(payload.exp, JwtStatus.JwtPayloadParseErrorExpNotInteger, JwtStatus.JwtPayloadParseErrorExpOutOfRange);
  if (typeof exp === 'string') return exp;
  if (jti !== undefined && typeof jti !== 'string') return JwtStatus.JwtPayloadParseErrorJtiNotString;
  let audiences: string[];
  if (aud === undefined) audiences = [];
  else if (typeof aud === 'string') audiences = [aud];
  else if (Array.isArray(aud) && aud.every((a) => typeof a === 'string')) audiences = aud as string[];
  else return JwtStatus.JwtPayloadParseErrorAudNotString;
  const signature = decodeB64url(s);
  if (!signature) return JwtStatus.JwtSignatureParseErrorBadBase64;
  return { headerB64: h, payloadB64: p, signature, header, payload, alg, kid: kid ?? '', iss: iss ?? '', sub: sub ?? '', audiences, exp, nbf, iat };
}

/**
 * Envoy's verifyTimeConstraint: not before `nbf` (less the skew), not after `exp` (plus the
 * skew). `now` and `skew` in seconds.
 */
export function checkTime(jwt: Jwt, now: number, skew: number): JwtStatus {
  if (jwt.nbf > 0 && now + skew < jwt.nbf) return JwtStatus.JwtNotYetValid;
  if (jwt.exp > 0 && now > jwt.exp + skew) return JwtStatus.JwtExpired;
  return JwtStatus.Ok;
}
