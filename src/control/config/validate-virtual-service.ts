/*
 * VirtualService (networking.istio.io/v1) with Istio's rules (pilot/pkg/config/validation):
 * each HTTP route has exactly one of route / redirect / directResponse; weights are integers
 * 0-100 adding up to 100 when there is more than one destination; retryOn is Envoy's list
 * (plus status codes); fault percentages 0-100; only the `mesh` gateway until gateways exist.
 */
import { describeValue, keyPath } from './issues.js';
import type { Checker } from './checker.js';

/** Envoy's x-envoy-retry-on and x-envoy-retry-grpc-on values, which Istio's retryOn passes through. */
export const RETRY_ON = [
  '5xx', 'gateway-error', 'reset', 'reset-before-request', 'connect-failure', 'envoy-ratelimited', 'retriable-4xx',
  'refused-stream', 'retriable-status-codes', 'retriable-headers', 'http3-post-connect-failure',
  'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable',
] as const;

/** gRPC status names as Istio's fault.abort.grpcStatus takes them. */
export const GRPC_STATUS = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
] as const;

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE'];

export function validateVirtualService(c: Checker, raw: unknown): void {
  const spec = c.object('spec', raw, ['hosts', 'gateways', 'http', 'tcp', 'exportTo'], ['tls']);
  if (!spec) return;
  c.required('spec.hosts', spec['hosts']);
  const seen = new Set<string>();
  c.array('spec.hosts', spec['hosts'])?.forEach((h, i) => {
    const p = `spec.hosts[${i}]`;
    const s = c.host(p, h, { wildcard: true });
    if (s === '*') c.error(p, 'the wildcard host "*" is not allowed for virtual services bound to the mesh gateway');
    if (s !== undefined && seen.has(s)) c.error(p, `duplicate host ${describeValue(s)}`);
    if (s !== undefined) seen.add(s);
  });
  gateways(c, 'spec.gateways', spec['gateways']);
  c.array('spec.http', spec['http'])?.forEach((r, i) => httpRoute(c, `spec.http[${i}]`, r));
  c.array('spec.tcp', spec['tcp'])?.forEach((r, i) => tcpRoute(c, `spec.tcp[${i}]`, r));
  if (spec['http'] === undefined && spec['tcp'] === undefined) c.error('spec', 'expected at least one http or tcp route');
  c.exportTo('spec.exportTo', spec['exportTo']);
}

function gateways(c: Checker, p: string, v: unknown): void {
  c.stringList(p, v, (ip, s) => { if (s !== 'mesh') c.error(ip, `not supported by tsmesh: only the "mesh" gateway, got ${describeValue(s)}`); });
}

function httpRoute(c: Checker, p: string, v: unknown): void {
  const o = c.object(p, v, ['name', 'match', 'route', 'redirect', 'directResponse', 'rewrite', 'timeout', 'retries', 'fault', 'mirror', 'mirrorPercentage', 'corsPolicy', 'headers'], ['delegate', 'mirrors', 'mirrorPercent', 'mirror_percent']);
  if (!o) return;
  c.string(`${p}.name`, o['name']);
  c.array(`${p}.match`, o['match'])?.forEach((m, i) => httpMatch(c, `${p}.match[${i}]`, m));
  const actions = ['route', 'redirect', 'directResponse'].filter((k) => o[k] !== undefined && o[k] !== null);
  if (actions.length === 0) c.error(p, 'expected one of route, redirect, directResponse');
  if (actions.length > 1) c.error(p, `route, redirect and directResponse are mutually exclusive, got ${actions.join(' and ')}`);
  if (o['rewrite'] !== undefined && o['redirect'] !== undefined) c.error(`${p}.rewrite`, 'rewrite may not be used with redirect');
  if (o['rewrite'] !== undefined && o['directResponse'] !== undefined) c.error(`${p}.rewrite`, 'rewrite may not be used with directResponse');
  destinations(c, `${p}.route`, o['route'], true);
  redirect(c, `${p}.redirect`, o['redirect']);
  directResponse(c, `${p}.directResponse`, o['directResponse']);
  rewrite(c, `${p}.rewrite`, o['rewrite']);
  c.duration(`${p}.timeout`, o['timeout']);
  retries(c, `${p}.retries`, o['retries']);
  fault(c, `${p}.fault`, o['fault']);
  if (o['mirror'] !== undefined) destination(c, `${p}.mirror`, o['mirror']);
  c.percent(`${p}.mirrorPercentage`, o['mirrorPercentage']);
  if (o['mirrorPercentage'] !== undefined && o['mirror'] === undefined) c.error(`${p}.mirrorPercentage`, 'requires mirror');
  cors(c, `${p}.corsPolicy`, o['corsPolicy']);
  headers(c, `${p}.headers`, o['headers']);
}

function httpMatch(c: Checker, p: string, v: unknown): void {
  const o = c.object(p, v, ['name', 'uri', 'scheme', 'method', 'authority', 'headers', 'port', 'sourceLabels', 'gateways', 'queryParams', 'ignoreUriCase', 'withoutHeaders', 'sourceNamespace'], ['statPrefix']);
  if (!o) return;
  c.string(`${p}.name`, o['name']);
  for (const k of ['uri', 'scheme', 'method', 'authority']) if (o[k] !== undefined) c.stringMatch(`${p}.${k}`, o[k]);
  for (const k of ['headers', 'withoutHeaders', 'queryParams']) {
    const m = c.map(`${p}.${k}`, o[k]);
    if (!m) continue;
    for (const [name, sm] of Object.entries(m)) {
      const kp = keyPath(`${p}.${k}`, name);
      if (k !== 'queryParams') c.headerName(kp, name);
      if (sm !== null) c.stringMatch(kp, sm, { allowEmpty: true, noPrefix: k === 'queryParams' });
    }
  }
  c.port(`${p}.port`, o['port']);
  c.labels(`${p}.sourceLabels`, o['sourceLabels']);
  gateways(c, `${p}.gateways`, o['gateways']);
  c.bool(`${p}.ignoreUriCase`, o['ignoreUriCase']);
  c.dnsLabel(`${p}.sourceNamespace`, o['sourceNamespace']);
}

function destination(c: Checker, p: string, v: unknown): void {
  if (!c.required(p, v)) return;
  const o = c.object(p, v, ['host', 'subset', 'port']);
  if (!o) return;
  if (c.required(`${p}.host`, o['host'])) c.host(`${p}.host`, o['host'], { wildcard: false });
  c.dnsLabel(`${p}.subset`, o['subset']);
  const port = c.object(`${p}.port`, o['port'], ['number']);
  if (port && c.required(`${p}.port.number`, port['number'])) c.port(`${p}.port.number`, port['number']);
}

/** A list of weighted destinations (HTTP or TCP): Istio's weight rules. */
function destinations(c: Checker, p: string, v: unknown, http: boolean): void {
  const list = c.array(p, v);
  if (!list) return;
  if (list.length === 0) { c.error(p, 'expected at least one destination'); return; }
  let sum = 0;
  let allValid = true;
  list.forEach((d, i) => {
    const dp = `${p}[${i}]`;
    const o = c.object(dp, d, http ? ['destination', 'weight', 'headers'] : ['destination', 'weight']);
    if (!o) { allValid = false; return; }
    destination(c, `${dp}.destination`, o['destination']);
    const w = c.int(`${dp}.weight`, o['weight'], 0, 100);
    if (o['weight'] !== undefined && w === undefined) allValid = false;
    sum += w ?? 0;
    if (http) headers(c, `${dp}.headers`, o['headers']);
  });
  // Istio: a single destination may omit its weight (it gets everything); several must total 100.
  if (list.length > 1 && allValid && sum !== 100) c.error(p, `weights must add up to 100, got ${sum}`);
}

function redirect(c: Checker, p: string, v: unknown): void {
  const o = c.object(p, v, ['uri', 'authority', 'port', 'derivePort', 'scheme', 'redirectCode']);
  if (!o) return;
  c.string(`${p}.uri`, o['uri']);
  c.string(`${p}.authority`, o['authority']);
  c.port(`${p}.port`, o['port']);
  c.oneOf(`${p}.derivePort`, o['derivePort'], ['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT'] as const);
  if (o['port'] !== undefined && o['derivePort'] !== undefined) c.error(p, 'only one of port and derivePort may be set');
  const scheme = c.string(`${p}.scheme`, o['scheme']);
  if (scheme !== undefined && !/^[A-Za-z][A-Za-z0-9+.-]*$/.test(scheme)) c.error(`${p}.scheme`, `expected a URI scheme such as "https", got ${describeValue(scheme)}`);
  const code = o['redirectCode'];
  if (code !== undefined && ![301, 302, 303, 307, 308].includes(code as number)) c.error(`${p}.redirectCode`, `expected one of 301, 302, 303, 307, 308, got ${describeValue(code)}`);
  if (['uri', 'authority', 'port', 'derivePort', 'scheme'].every((k) => o[k] === undefined)) c.error(p, 'expected at least one of uri, authority, port, derivePort, scheme');
}

function directResponse(c: Checker, p: string, v: unknown): void {
  const o = c.object(p, v, ['status', 'body']);
  if (!o) return;
  if (c.required(`${p}.status`, o['status'])) c.int(`${p}.status`, o['status'], 200, 599);
  const body = c.object(`${p}.body`, o['body'], ['string', 'bytes']);
  if (!body) return;
  if (body['string'] !== undefined && body['bytes'] !== undefined) c.error(`${p}.body`, 'only one of string and bytes may be set');
  c.string(`${p}.body.string`, body['string']);
  const b = c.string(`${p}.body.bytes`, body['bytes']);
  if (b !== undefined && !/^[A-Za-z0-9+/]*={0,2}$/.test(b)) c.error(`${p}.body.bytes`, 'expected base64');
}

function rewrite(c: Checker, p: string, v: unknown): void {
  const o = c.object(p, v, ['uri', 'authority', 'uriRegexRewrite']);
  if (!o) return;
  c.string(`${p}.uri`, o['uri']);
  c.string(`${p}.authority`, o['authority']);
  if (o['uri'] !== undefined && o['uriRegexRewrite'] !== undefined) c.error(p, 'only one of uri and uriRegexRewrite may be set');
  const rr = c.object(`${p}.uriRegexRewrite`, o['uriRegexRewrite'], ['match', 'rewrite']);
  if (rr) {
    if (c.required(`${p}.uriRegexRewrite.match`, rr['match'])) c.regex(`${p}.uriRegexRewrite.match`, rr['match']);
    if (rr['rewrite'] === undefined) c.error(`${p}.uriRegexRewrite.rewrite`, 'required');
    c.string(`${p}.uriRegexRewrite.rewrite`, rr['rewrite']);
  }
}

function retries(c: Checker, p: string, v: unknown): void {
  const o = c.object(p, v, ['attempts', 'perTryTimeout', 'retryOn', 'retryRemoteLocalities'], ['retryIgnorePreviousHosts', 'backoff']);
  if (!o) return;
  c.int(`${p}.attempts`, o['attempts'], 0, 2147483647);
  c.duration(`${p}.perTryTimeout`, o['perTryTimeout']);
  c.bool(`${p}.retryRemoteLocalities`, o['retryRemoteLocalities']);
  const on = c.string(`${p}.retryOn`, o['retryOn']);
  if (on === undefined) return;
  for (const part of on.split(',').map((s) => s.trim())) {
    if ((RETRY_ON as readonly string[]).includes(part)) continue;
    if (/^\d{3}$/.test(part) && Number(part) >= 100 && Number(part) <= 599) continue;
    c.error(`${p}.retryOn`, `${describeValue(part)} is not a retry condition: expected a comma-separated list of ${RETRY_ON.join(', ')} or HTTP status codes`);
  }
}

function fault(c: Checker, p: string, v: unknown): void {
  const o = c.object(p, v, ['delay', 'abort']);
  if (!o) return;
  if (o['delay'] === undefined && o['abort'] === undefined) c.error(p, 'expected delay or abort');
  const d = c.object(`${p}.delay`, o['delay'], ['fixedDelay', 'percentage'], ['exponentialDelay', 'percent']);
  if (d) {
    if (c.required(`${p}.delay.fixedDelay`, d['fixedDelay'])) c.duration(`${p}.delay.fixedDelay`, d['fixedDelay']);
    c.percent(`${p}.delay.percentage`, d['percentage']);
  }
  const a = c.object(`${p}.abort`, o['abort'], ['httpStatus', 'grpcStatus', 'percentage'], ['http2Error']);
  if (a) {
    const set = ['httpStatus', 'grpcStatus'].filter((k) => a[k] !== undefined);
    if (set.length !== 1) c.error(`${p}.abort`, 'expected exactly one of httpStatus, grpcStatus');
    c.int(`${p}.abort.httpStatus`, a['httpStatus'], 200, 599);
    c.oneOf(`${p}.abort.grpcStatus`, a['grpcStatus'], GRPC_STATUS);
    c.percent(`${p}.abort.percentage`, a['percentage']);
  }
}

function cors(c: Checker, p: string, v: unknown): void {
  const o = c.object(p, v, ['allowOrigins', 'allowMethods', 'allowHeaders', 'exposeHeaders', 'maxAge', 'allowCredentials'], ['allowOrigin', 'unmatchedPreflights']);
  if (!o) return;
  c.array(`${p}.allowOrigins`, o['allowOrigins'])?.forEach((m, i) => c.stringMatch(`${p}.allowOrigins[${i}]`, m));
  c.stringList(`${p}.allowMethods`, o['allowMethods'], (ip, s) => { if (!METHODS.includes(s)) c.error(ip, `expected one of ${METHODS.join(', ')}, got ${describeValue(s)}`); });
  c.stringList(`${p}.allowHeaders`, o['allowHeaders'], (ip, s) => c.headerName(ip, s));
  c.stringList(`${p}.exposeHeaders`, o['exposeHeaders'], (ip, s) => c.headerName(ip, s));
  const age = c.duration(`${p}.maxAge`, o['maxAge']);
  if (age !== undefined && age % 1000 !== 0) c.error(`${p}.maxAge`, 'maxAge is accurate only to seconds');
  c.bool(`${p}.allowCredentials`, o['allowCredentials']);
}

function headers(c: Checker, p: string, v: unknown): void {
  const o = c.object(p, v, ['request', 'response']);
  if (!o) return;
  for (const dir of ['request', 'response']) {
    const ops = c.object(`${p}.${dir}`, o[dir], ['set', 'add', 'remove']);
    if (!ops) continue;
    const op = `${p}.${dir}`;
    c.stringMap(`${op}.set`, ops['set'], (kp, k) => c.headerName(kp, k));
    c.stringMap(`${op}.add`, ops['add'], (kp, k) => c.headerName(kp, k));
    c.stringList(`${op}.remove`, ops['remove'], (ip, s) => c.headerName(ip, s));
  }
}

function tcpRoute(c: Checker, p: string, v: unknown): void {
  const o = c.object(p, v, ['match', 'route']);
  if (!o) return;
  c.array(`${p}.match`, o['match'])?.forEach((m, i) => {
    const mp = `${p}.match[${i}]`;
    const mo = c.object(mp, m, ['destinationSubnets', 'port', 'sourceLabels', 'gateways', 'sourceNamespace'], ['sourceSubnet']);
    if (!mo) return;
    c.stringList(`${mp}.destinationSubnets`, mo['destinationSubnets'], (ip, s) => c.ipOrCidr(ip, s));
    c.port(`${mp}.port`, mo['port']);
    c.labels(`${mp}.sourceLabels`, mo['sourceLabels']);
    gateways(c, `${mp}.gateways`, mo['gateways']);
    c.dnsLabel(`${mp}.sourceNamespace`, mo['sourceNamespace']);
  });
  if (c.required(`${p}.route`, o['route'])) destinations(c, `${p}.route`, o['route'], false);
}
