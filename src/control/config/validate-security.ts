/*
 * PeerAuthentication, AuthorizationPolicy and RequestAuthentication (security.istio.io/v1) with
 * Istio's rules (pilot/pkg/config/validation): modes and actions from Istio's enums, portLevelMtls
 * only with a selector, non-empty `from.source` / `to.operation`, known `when` keys, CIDRs,
 * ports, JWKS that parse. What Istio has but tsmesh cannot do (CUSTOM, targetRef) is refused.
 */
import { describeValue, keyPath } from './issues.js';
import { isHeaderName } from './names.js';
import type { Checker, Obj } from './checker.js';

const MODES = ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'] as const;
const TARGET_REF = ['targetRef', 'targetRefs'];

function selector(c: Checker, path: string, v: unknown): Obj | undefined {
  const o = c.object(path, v, ['matchLabels'], ['matchExpressions']);
  if (o) c.labels(`${path}.matchLabels`, o['matchLabels']);
  return o;
}

export function validatePeerAuthentication(c: Checker, raw: unknown): void {
  const spec = c.object('spec', raw, ['selector', 'mtls', 'portLevelMtls'], TARGET_REF);
  if (!spec) return;
  const sel = selector(c, 'spec.selector', spec['selector']);
  const mtls = c.object('spec.mtls', spec['mtls'], ['mode']);
  if (mtls) c.oneOf('spec.mtls.mode', mtls['mode'], MODES);
  const ports = c.map('spec.portLevelMtls', spec['portLevelMtls']);
  if (!ports) return;
  // Istio: port-level settings name a workload's ports, so they need a workload selector.
  if (!sel || Object.keys((sel['matchLabels'] as Obj | undefined) ?? {}).length === 0) c.error('spec.portLevelMtls', 'requires spec.selector.matchLabels (port-level settings apply to selected workloads only)');
  for (const [k, v] of Object.entries(ports)) {
    const p = keyPath('spec.portLevelMtls', k);
    const n = Number(k);
    if (!/^\d+$/.test(k) || n < 1 || n > 65535) c.error(p, `expected a port number 1-65535 as the key, got ${describeValue(k)}`);
    const o = c.object(p, v, ['mode']);
    if (o) c.oneOf(`${p}.mode`, o['mode'], MODES);
  }
}

export function validateAuthorizationPolicy(c: Checker, raw: unknown): void {
  const spec = c.object('spec', raw, ['selector', 'action', 'rules'], [...TARGET_REF, 'provider']);
  if (!spec) return;
  selector(c, 'spec.selector', spec['selector']);
  if (spec['action'] === 'CUSTOM') c.error('spec.action', 'CUSTOM is not supported by tsmesh (it needs an external authorization provider); use ALLOW, DENY or AUDIT');
  else c.oneOf('spec.action', spec['action'], ['ALLOW', 'DENY', 'AUDIT'] as const);
  c.array('spec.rules', spec['rules'])?.forEach((r, i) => rule(c, `spec.rules[${i}]`, r));
}

const SOURCE_FIELDS = ['principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals', 'namespaces', 'notNamespaces', 'ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks'] as const;
const OPERATION_FIELDS = ['hosts', 'notHosts', 'ports', 'notPorts', 'methods', 'notMethods', 'paths', 'notPaths'] as const;

function rule(c: Checker, p: string, v: unknown): void {
  const o = c.object(p, v, ['from', 'to', 'when']);
  if (!o) return;
  c.array(`${p}.from`, o['from'])?.forEach((f, i) => {
    const fp = `${p}.from[${i}]`;
    const fo = c.object(fp, f, ['source']);
    if (!fo) return;
    const src = c.object(`${fp}.source`, fo['source'], SOURCE_FIELDS);
    if (!src || !SOURCE_FIELDS.some((k) => Array.isArray(src[k]) && (src[k] as unknown[]).length > 0)) { c.error(`${fp}.source`, 'must not be empty'); return; }
    for (const k of SOURCE_FIELDS) {
      c.stringList(`${fp}.source.${k}`, src[k], (ep, s) => {
        if (s === '') c.error(ep, 'must not be empty');
        else if (k.toLowerCase().includes('ipblocks')) c.ipOrCidr(ep, s);
        else if (k.toLowerCase().includes('namespaces') && s !== '*' && !/^\*?[a-z0-9-]*\*?$/.test(s)) c.error(ep, `expected a namespace, optionally with a leading or trailing "*", got ${describeValue(s)}`);
        else if (s.indexOf('*', 1) > 0 && s.indexOf('*', 1) < s.length - 1) c.error(ep, `"*" is allowed only at the start or the end, got ${describeValue(s)}`);
      });
    }
  });
  c.array(`${p}.to`, o['to'])?.forEach((t, i) => {
    const tp = `${p}.to[${i}]`;
    const to = c.object(tp, t, ['operation']);
    if (!to) return;
    const op = c.object(`${tp}.operation`, to['operation'], OPERATION_FIELDS);
    if (!op || !OPERATION_FIELDS.some((k) => Array.isArray(op[k]) && (op[k] as unknown[]).length > 0)) { c.error(`${tp}.operation`, 'must not be empty'); return; }
    for (const k of OPERATION_FIELDS) {
      c.stringList(`${tp}.operation.${k}`, op[k], (ep, s) => {
        if (s === '') c.error(ep, 'must not be empty');
        else if (k === 'ports' || k === 'notPorts') { if (!/^\d+$/.test(s) || Number(s) < 1 || Number(s) > 65535) c.error(ep, `expected a port number 1-65535, got ${describeValue(s)}`); }
        else if ((k === 'paths' || k === 'notPaths') && s.indexOf('*', 1) > 0 && s.indexOf('*', 1) < s.length - 1) c.error(ep, `"*" is allowed only at the start or the end, got ${describeValue(s)}`);
      });
    }
  });
  c.array(`${p}.when`, o['when'])?.forEach((w, i) => {
    const wp = `${p}.when[${i}]`;
    const wo = c.object(wp, w, ['key', 'values', 'notValues']);
    if (!wo) return;
    const key = c.required(`${wp}.key`, wo['key']) ? c.string(`${wp}.key`, wo['key']) : undefined;
    const problem = key === undefined ? undefined : conditionKeyProblem(key);
    if (problem) c.error(`${wp}.key`, problem);
    const values = c.stringList(`${wp}.values`, wo['values']);
    const notValues = c.stringList(`${wp}.notValues`, wo['notValues']);
    if (!values?.length && !notValues?.length) c.error(wp, 'at least one of values or notValues must be set');
    if (key === 'destination.port') for (const [f, list] of [['values', values], ['notValues', notValues]] as const) {
      list?.forEach((s, j) => { if (!/^\d+$/.test(s) || Number(s) > 65535) c.error(`${wp}.${f}[${j}]`, `expected a port number, got ${describeValue(s)}`); });
    }
    if (key === 'source.ip' || key === 'remote.ip' || key === 'destination.ip') for (const [f, list] of [['values', values], ['notValues', notValues]] as const) {
      list?.forEach((s, j) => c.ipOrCidr(`${wp}.${f}[${j}]`, s));
    }
  });
}

/** The `when` keys tsmesh translates (Istio's list, without the experimental.* ones). */
export const CONDITION_KEYS = ['source.ip', 'remote.ip', 'source.namespace', 'source.principal', 'request.auth.principal', 'request.auth.audiences', 'request.auth.presenter', 'destination.ip', 'destination.port', 'connection.sni'] as const;

/** Why a `when` key is not one tsmesh knows; `request.headers[NAME]` and `request.auth.claims[NAME]` take a name. */
export function conditionKeyProblem(key: string): string | undefined {
  if ((CONDITION_KEYS as readonly string[]).includes(key)) return undefined;
  const m = /^(request\.headers|request\.auth\.claims)\[(.+)\]$/.exec(key);
  if (m) {
    if (m[1] === 'request.headers' && !isHeaderName(m[2]!)) return `expected an HTTP header name in request.headers[...], got ${describeValue(m[2])}`;
    return undefined;
  }
  return `unknown key ${describeValue(key)}; expected request.headers[NAME], request.auth.claims[NAME] or one of ${CONDITION_KEYS.join(', ')}`;
}

export function validateRequestAuthentication(c: Checker, raw: unknown): void {
  const spec = c.object('spec', raw, ['selector', 'jwtRules'], TARGET_REF);
  if (!spec) return;
  selector(c, 'spec.selector', spec['selector']);
  const issuers = new Set<string>();
  c.array('spec.jwtRules', spec['jwtRules'])?.forEach((r, i) => {
    const p = `spec.jwtRules[${i}]`;
    const o = c.object(p, r, ['issuer', 'audiences', 'jwks', 'jwksUri', 'fromHeaders', 'fromParams', 'outputPayloadToHeader', 'forwardOriginalToken', 'outputClaimToHeaders'], ['timeout', 'fromCookies']);
    if (!o) return;
    if (c.required(`${p}.issuer`, o['issuer'])) {
      const iss = c.string(`${p}.issuer`, o['issuer']);
      if (iss !== undefined && issuers.has(iss)) c.error(`${p}.issuer`, `duplicate issuer ${describeValue(iss)}`);
      if (iss !== undefined) issuers.add(iss);
    }
    c.stringList(`${p}.audiences`, o['audiences']);
    const uri = c.string(`${p}.jwksUri`, o['jwksUri']);
    if (uri !== undefined && jwksUriProblem(uri)) c.error(`${p}.jwksUri`, jwksUriProblem(uri)!);
    const jwks = c.string(`${p}.jwks`, o['jwks']);
    if (jwks !== undefined) { const problem = jwksProblem(jwks); if (problem) c.error(`${p}.jwks`, problem); }
    if (o['jwks'] === undefined && o['jwksUri'] === undefined) c.error(p, 'one of jwks or jwksUri is required (tsmesh does not do OpenID discovery from the issuer)');
    c.array(`${p}.fromHeaders`, o['fromHeaders'])?.forEach((h, j) => {
      const hp = `${p}.fromHeaders[${j}]`;
      const ho = c.object(hp, h, ['name', 'prefix']);
      if (!ho) return;
      if (c.required(`${hp}.name`, ho['name'])) { const n = c.string(`${hp}.name`, ho['name']); if (n !== undefined) c.headerName(`${hp}.name`, n); }
      c.string(`${hp}.prefix`, ho['prefix']);
    });
    c.stringList(`${p}.fromParams`, o['fromParams'], (ep, s) => { if (s === '') c.error(ep, 'must not be empty'); });
    const out = c.string(`${p}.outputPayloadToHeader`, o['outputPayloadToHeader']);
    if (out !== undefined) c.headerName(`${p}.outputPayloadToHeader`, out);
    c.bool(`${p}.forwardOriginalToken`, o['forwardOriginalToken']);
    c.array(`${p}.outputClaimToHeaders`, o['outputClaimToHeaders'])?.forEach((h, j) => {
      const hp = `${p}.outputClaimToHeaders[${j}]`;
      const ho = c.object(hp, h, ['header', 'claim']);
      if (!ho) return;
      if (c.required(`${hp}.header`, ho['header'])) { const n = c.string(`${hp}.header`, ho['header']); if (n !== undefined) c.headerName(`${hp}.header`, n); }
      if (c.required(`${hp}.claim`, ho['claim'])) c.string(`${hp}.claim`, ho['claim']);
    });
  });
}

function jwksUriProblem(uri: string): string | undefined {
  let u: URL;
  try { u = new URL(uri); } catch { return `expected an http or https URL, got ${describeValue(uri)}`; }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `expected an http or https URL, got ${describeValue(uri)}`;
  return undefined;
}

/** A JSON Web Key Set (RFC 7517): an object with a non-empty `keys` list of objects with `kty`. */
export function jwksProblem(text: string): string | undefined {
  let v: unknown;
  try { v = JSON.parse(text); } catch (e) { return `not valid JSON: ${(e as Error).message}`; }
  const keys = v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj)['keys'] : undefined;
  if (!Array.isArray(keys) || keys.length === 0) return 'expected a JSON Web Key Set: an object with a non-empty "keys" list';
  const bad = keys.findIndex((k) => !k || typeof k !== 'object' || typeof (k as Obj)['kty'] !== 'string');
  if (bad >= 0) return `keys[${bad}]: expected a JSON Web Key with "kty"`;
  return undefined;
}
