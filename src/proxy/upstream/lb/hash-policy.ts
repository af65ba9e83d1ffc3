/**
 * The request hash from a route's hash_policy list, as Envoy's Http::HashPolicyImpl computes it
 * (source/common/http/hash_policy.cc): each policy that yields a value contributes xxHash64 of it,
 * combined as `hash = rotl(hash, 1) ^ next`; a `terminal` policy ends the list once a hash exists.
 */
import type { RE2JS } from 're2js';
import { re2 } from '../../http/route/re2-engine.js';
import type { RouteAction_HashPolicy } from '../../../envoy/generated/envoy/config/route/v3/route_components_pb.js';
import type { RegexMatchAndSubstitute } from '../../../envoy/generated/envoy/type/matcher/v3/regex_pb.js';
import { ConfigError } from '../../../envoy/registry.js';
import type { HeaderMap } from '../../http/headers.js';
import { parseCookieValue, type CookieAttribute } from './cookie.js';
import { allocRegisters, load, rotl, toBigInt, xor } from './u64.js';
import { HASH_OUT, xxh64StringParts } from './xxhash64.js';
import { firstQueryValue } from '../../http/query-string.js';

const ACC = allocRegisters(2);
const NEXT = ACC + 1;
/** Seed of the next value in a multi-valued header's chain. */
const chainSeed = new Uint32Array(2);

/** A cookie the cookie policy wants set on the response (Envoy's AddCookieCallback arguments). */
export interface CookieToSet {
  readonly name: string;
  readonly path: string;
  /** HashPolicy.Cookie.ttl in whole seconds (Envoy drops the nanos); 0 means a session cookie. */
  readonly ttlSeconds: number;
  readonly attributes: readonly CookieAttribute[];
}

export interface HashRequest {
  /** Regular headers (no pseudo-headers), names lower-case. */
  readonly headers: HeaderMap;
  /** Downstream peer IP without port (Envoy's `addressAsString()`); '' when not IP. */
  readonly sourceIp: string;
  /** `:path` with query string, as received. */
  readonly path: string;
  /** `:authority` (also what a `host` header policy hashes, as in Envoy); optional. */
  readonly authority?: string;
  readonly method?: string;
  readonly scheme?: string;
  /**
   * Called when a cookie policy with a ttl finds no cookie: the caller must add the Set-Cookie
   * (see cookie.ts makeSetCookieValue / generateCookieValue) and return the value, which is then
   * hashed. Without it (or if it returns ''), that policy yields no hash.
   */
  readonly addCookie?: (cookie: CookieToSet) => string;
}

type HashMethod =
  | { readonly kind: 'header'; readonly name: string; readonly rewrite: Rewrite | undefined; readonly terminal: boolean }
  | { readonly kind: 'cookie'; readonly cookie: CookieToSet; readonly generate: boolean; readonly terminal: boolean }
  | { readonly kind: 'source_ip'; readonly terminal: boolean }
  | { readonly kind: 'query_parameter'; readonly name: string; readonly terminal: boolean };

/** Validated hash policies of one route, ready to evaluate per request. */
export interface CompiledHashPolicy {
  readonly methods: readonly HashMethod[];
}

interface Rewrite {
  readonly re: RE2JS;
  /** Substitution split into literals (strings) and capture-group numbers. */
  readonly parts: readonly (string | number)[];
}

const compiled = new WeakMap<readonly RouteAction_HashPolicy[], CompiledHashPolicy>();

/**
 * Validates `policies` (field paths under `path`) and compiles them; cached per list, so calling
 * it when the route is loaded reports errors at config time and makes computeRequestHash cheap.
 */
export function compileHashPolicies(policies: readonly RouteAction_HashPolicy[], path = 'hash_policy'): CompiledHashPolicy {
  let c = compiled.get(policies);
  if (!c) {
    c = { methods: policies.flatMap((p, i) => compileOne(p, `${path}[${i}]`)) };
    compiled.set(policies, c);
  }
  return c;
}

function compileOne(p: RouteAction_HashPolicy, path: string): HashMethod[] {
  const terminal = p.terminal;
  const spec = p.policySpecifier;
  switch (spec.case) {
    case 'header': {
      const name = spec.value.headerName.toLowerCase();
      if (!name) throw new ConfigError(`${path}.header.header_name`, 'must not be empty');
      const rewrite = spec.value.regexRewrite ? compileRewrite(spec.value.regexRewrite, `${path}.header.regex_rewrite`) : undefined;
      return [{ kind: 'header', name, rewrite, terminal }];
    }
    case 'cookie': {
      const ck = spec.value;
      if (!ck.name) throw new ConfigError(`${path}.cookie.name`, 'must not be empty');
      const cookie: CookieToSet = {
        name: ck.name,
        path: ck.path,
        ttlSeconds: ck.ttl ? Number(ck.ttl.seconds) : 0,
        attributes: ck.attributes.map((a) => ({ name: a.name, value: a.value })),
      };
      return [{ kind: 'cookie', cookie, generate: ck.ttl !== undefined, terminal }];
    }
    case 'connectionProperties':
      // Envoy adds no method when source_ip is false.
      return spec.value.sourceIp ? [{ kind: 'source_ip', terminal }] : [];
    case 'queryParameter':
      if (!spec.value.name) throw new ConfigError(`${path}.query_parameter.name`, 'must not be empty');
      return [{ kind: 'query_parameter', name: spec.value.name, terminal }];
    case 'filterState':
      throw new ConfigError(`${path}.filter_state`, 'filter_state hash policies are not supported');
    default:
      throw new ConfigError(path, 'a hash policy needs one of header, cookie, connection_properties, query_parameter');
  }
}

/** RE2 substitution syntax: `\N` is capture group N (0-9), `\\` a backslash; nothing else may follow `\`. */
function compileRewrite(r: RegexMatchAndSubstitute, path: string): Rewrite {
  if (!r.pattern) throw new ConfigError(`${path}.pattern`, 'a regex is required');
  let re: RE2JS;
  try {
    re = re2().compile(r.pattern.regex);
  } catch (e) {
    throw new ConfigError(`${path}.pattern.regex`, `invalid regex: ${(e as Error).message}`);
  }
  const parts: (string | number)[] = [];
  const s = r.substitution;
  let lit = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch !== '\\') { lit += ch; continue; }
    const next = s[++i];
    if (next === '\\') { lit += '\\'; continue; }
    if (next === undefined || next < '0' || next > '9') throw new ConfigError(`${path}.substitution`, `invalid rewrite pattern: ${JSON.stringify(s)}`);
    const group = next.charCodeAt(0) - 0x30;
    if (group > re.groupCount()) throw new ConfigError(`${path}.substitution`, `\\${group} refers to a missing capture group (the regex has ${re.groupCount()})`);
    if (lit) { parts.push(lit); lit = ''; }
    parts.push(group);
  }
  if (lit) parts.push(lit);
  return { re, parts };
}

function applyRewrite(rw: Rewrite, value: string): string {
  return rw.re.matcher(value).replaceAll((...args: unknown[]) => {
    let out = '';
    for (const p of rw.parts) out += typeof p === 'string' ? p : ((args[p] as string | null | undefined) ?? '');
    return out;
  });
}

/**
 * The request hash for `policies`, or undefined when no policy yields a value (then RING_HASH and
 * MAGLEV pick at random). Throws ConfigError for invalid policies unless compileHashPolicies
 * already validated them at config time.
 */
export function computeRequestHash(policies: readonly RouteAction_HashPolicy[], req: HashRequest): bigint | undefined {
  const { methods } = compileHashPolicies(policies);
  let has = false;
  for (const m of methods) {
    if (evaluate(m, req)) {
      load(NEXT, HASH_OUT);
      if (has) {
        // Rotating the old value stops duplicate policies from cancelling each other out.
        rotl(ACC, ACC, 1);
        xor(ACC, ACC, NEXT);
      } else {
        load(ACC, HASH_OUT);
      }
      has = true;
    }
    if (m.terminal && has) break;
  }
  return has ? toBigInt(ACC) : undefined;
}

/** Hashes the method's value into HASH_OUT; false when the request has no value for it. */
function evaluate(m: HashMethod, req: HashRequest): boolean {
  switch (m.kind) {
    case 'header':
      return hashHeader(m.name, m.rewrite, req);
    case 'cookie': {
      let value = parseCookieValue(req.headers, m.cookie.name);
      if (!value && m.generate && req.addCookie) value = req.addCookie(m.cookie);
      if (!value) return false;
      xxh64StringParts(value);
      return true;
    }
    case 'source_ip':
      if (!req.sourceIp) return false;
      xxh64StringParts(req.sourceIp);
      return true;
    case 'query_parameter': {
      const value = firstQueryValue(req.path, m.name, false);
      if (value === undefined) return false;
      xxh64StringParts(value);
      return true;
    }
  }
}

function pseudoHeader(name: string, req: HashRequest): string | undefined {
  switch (name) {
    case ':path': return req.path;
    case ':authority': case 'host': return req.authority;
    case ':method': return req.method;
    case ':scheme': return req.scheme;
    default: return undefined;
  }
}

/**
 * Envoy's HeaderHashMethod: every value of the header, rewritten, sorted (so the order of repeated
 * headers does not matter) and hashed in a chain, each result seeding the next.
 */
function hashHeader(name: string, rewrite: Rewrite | undefined, req: HashRequest): boolean {
  const pseudo = pseudoHeader(name, req);
  let single = pseudo;
  let values: string[] | undefined;
  if (pseudo === undefined) {
    const list = req.headers.list;
    for (let i = 0; i < list.length; i += 2) {
      if (list[i] !== name) continue;
      const v = list[i + 1]!;
      if (single === undefined) single = v;
      else (values ??= [single]).push(v);
    }
    if (single === undefined) return false;
  }
  if (!values) {
    xxh64StringParts(rewrite ? applyRewrite(rewrite, single!) : single!);
    return true;
  }
  if (rewrite) values = values.map((v) => applyRewrite(rewrite, v));
  values.sort();
  chainSeed.fill(0);
  for (const v of values) {
    xxh64StringParts(v, chainSeed);
    chainSeed.set(HASH_OUT);
  }
  return true;
}
