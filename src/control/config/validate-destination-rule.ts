/*
 * DestinationRule (networking.istio.io/v1) with Istio's rules: a host, unique DNS-label subset
 * names, one load-balancing choice, one consistent-hash key, durations >= 1ms, percentages 0-100.
 */
import { describeValue } from './issues.js';
import { validateSelector } from './validate-workloads.js';
import type { Checker } from './checker.js';

const U32 = 4294967295;
const I32 = 2147483647;

export function validateDestinationRule(c: Checker, raw: unknown): void {
  const spec = c.object('spec', raw, ['host', 'trafficPolicy', 'subsets', 'exportTo', 'workloadSelector']);
  if (!spec) return;
  if (c.required('spec.host', spec['host'])) c.host('spec.host', spec['host'], { wildcard: true });
  trafficPolicy(c, 'spec.trafficPolicy', spec['trafficPolicy'], true);
  const names = new Set<string>();
  c.array('spec.subsets', spec['subsets'])?.forEach((s, i) => {
    const p = `spec.subsets[${i}]`;
    const o = c.object(p, s, ['name', 'labels', 'trafficPolicy']);
    if (!o) return;
    if (c.required(`${p}.name`, o['name'])) {
      const name = c.dnsLabel(`${p}.name`, o['name']);
      if (name !== undefined && names.has(name)) c.error(`${p}.name`, `duplicate subset name ${describeValue(name)}`);
      if (name !== undefined) names.add(name);
    }
    c.labels(`${p}.labels`, o['labels']);
    trafficPolicy(c, `${p}.trafficPolicy`, o['trafficPolicy'], true);
  });
  c.exportTo('spec.exportTo', spec['exportTo']);
  validateSelector(c, 'spec.workloadSelector', spec['workloadSelector'], 'matchLabels');
}

function trafficPolicy(c: Checker, p: string, v: unknown, portLevel: boolean): void {
  const o = c.object(p, v, portLevel ? ['loadBalancer', 'connectionPool', 'outlierDetection', 'tls', 'portLevelSettings'] : ['port', 'loadBalancer', 'connectionPool', 'outlierDetection', 'tls'], ['tunnel', 'proxyProtocol']);
  if (!o) return;
  loadBalancer(c, `${p}.loadBalancer`, o['loadBalancer']);
  connectionPool(c, `${p}.connectionPool`, o['connectionPool']);
  outlierDetection(c, `${p}.outlierDetection`, o['outlierDetection']);
  clientTls(c, `${p}.tls`, o['tls']);
  if (!portLevel) {
    const port = c.object(`${p}.port`, o['port'], ['number']);
    if (c.required(`${p}.port`, o['port']) && port && c.required(`${p}.port.number`, port['number'])) c.port(`${p}.port.number`, port['number']);
    return;
  }
  const seen = new Set<number>();
  c.array(`${p}.portLevelSettings`, o['portLevelSettings'])?.forEach((pl, i) => {
    trafficPolicy(c, `${p}.portLevelSettings[${i}]`, pl, false);
    const n = (pl as { port?: { number?: unknown } } | null)?.port?.number;
    if (typeof n === 'number') {
      if (seen.has(n)) c.error(`${p}.portLevelSettings[${i}].port.number`, `duplicate port ${n}`);
      seen.add(n);
    }
  });
}

function loadBalancer(c: Checker, p: string, v: unknown): void {
  const o = c.object(p, v, ['simple', 'consistentHash'], ['localityLbSetting', 'warmupDurationSecs', 'warmup']);
  if (!o) return;
  if (o['simple'] !== undefined && o['consistentHash'] !== undefined) c.error(p, 'only one of simple and consistentHash may be set');
  c.oneOf(`${p}.simple`, o['simple'], ['UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_REQUEST'] as const);
  const ch = c.object(`${p}.consistentHash`, o['consistentHash'], ['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName', 'ringHash', 'maglev', 'minimumRingSize']);
  if (!ch) return;
  const cp = `${p}.consistentHash`;
  const keys = ['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName'].filter((k) => ch[k] !== undefined && ch[k] !== null);
  if (keys.length !== 1) c.error(cp, `expected exactly one of httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName${keys.length ? `, got ${keys.join(' and ')}` : ''}`);
  const header = c.string(`${cp}.httpHeaderName`, ch['httpHeaderName']);
  if (header !== undefined) c.headerName(`${cp}.httpHeaderName`, header);
  const cookie = c.object(`${cp}.httpCookie`, ch['httpCookie'], ['name', 'path', 'ttl'], ['attributes']);
  if (cookie) {
    if (c.required(`${cp}.httpCookie.name`, cookie['name'])) c.string(`${cp}.httpCookie.name`, cookie['name']);
    c.string(`${cp}.httpCookie.path`, cookie['path']);
    // A ttl of 0s is Istio's "session cookie"; anything else follows the 1ms rule.
    if (cookie['ttl'] !== '0s' && cookie['ttl'] !== '0') c.duration(`${cp}.httpCookie.ttl`, cookie['ttl']);
  }
  c.bool(`${cp}.useSourceIp`, ch['useSourceIp']);
  c.string(`${cp}.httpQueryParameterName`, ch['httpQueryParameterName']);
  const algos = ['ringHash', 'maglev', 'minimumRingSize'].filter((k) => ch[k] !== undefined && ch[k] !== null);
  if (algos.length > 1) c.error(cp, `only one of ringHash, maglev, minimumRingSize may be set, got ${algos.join(' and ')}`);
  const ring = c.object(`${cp}.ringHash`, ch['ringHash'], ['minimumRingSize']);
  if (ring) c.int(`${cp}.ringHash.minimumRingSize`, ring['minimumRingSize'], 1, 8_388_608);
  c.int(`${cp}.minimumRingSize`, ch['minimumRingSize'], 1, 8_388_608);
  const maglev = c.object(`${cp}.maglev`, ch['maglev'], ['tableSize']);
  if (maglev) {
    const size = c.int(`${cp}.maglev.tableSize`, maglev['tableSize'], 1, 5_000_011);
    // Envoy's Maglev table size must be prime.
    if (size !== undefined && !isPrime(size)) c.error(`${cp}.maglev.tableSize`, `expected a prime number, got ${size}`);
  }
}

function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

function connectionPool(c: Checker, p: string, v: unknown): void {
  const o = c.object(p, v, ['tcp', 'http']);
  if (!o) return;
  const tcp = c.object(`${p}.tcp`, o['tcp'], ['maxConnections', 'connectTimeout', 'maxConnectionDuration', 'idleTimeout'], ['tcpKeepalive']);
  if (tcp) {
    c.int(`${p}.tcp.maxConnections`, tcp['maxConnections'], 0, I32);
    c.duration(`${p}.tcp.connectTimeout`, tcp['connectTimeout']);
    c.duration(`${p}.tcp.maxConnectionDuration`, tcp['maxConnectionDuration']);
    c.duration(`${p}.tcp.idleTimeout`, tcp['idleTimeout']);
  }
  const http = c.object(`${p}.http`, o['http'], ['http1MaxPendingRequests', 'http2MaxRequests', 'maxRequestsPerConnection', 'maxRetries', 'idleTimeout', 'h2UpgradePolicy', 'useClientProtocol', 'maxConcurrentStreams']);
  if (http) {
    for (const k of ['http1MaxPendingRequests', 'http2MaxRequests', 'maxRequestsPerConnection', 'maxRetries', 'maxConcurrentStreams']) c.int(`${p}.http.${k}`, http[k], 0, I32);
    c.duration(`${p}.http.idleTimeout`, http['idleTimeout']);
    c.oneOf(`${p}.http.h2UpgradePolicy`, http['h2UpgradePolicy'], ['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE'] as const);
    c.bool(`${p}.http.useClientProtocol`, http['useClientProtocol']);
  }
}

function outlierDetection(c: Checker, p: string, v: unknown): void {
  const o = c.object(p, v, ['consecutiveErrors', 'consecutiveGatewayErrors', 'consecutive5xxErrors', 'consecutiveLocalOriginFailures', 'splitExternalLocalOriginErrors', 'interval', 'baseEjectionTime', 'maxEjectionPercent', 'minHealthPercent']);
  if (!o) return;
  for (const k of ['consecutiveErrors', 'consecutiveGatewayErrors', 'consecutive5xxErrors', 'consecutiveLocalOriginFailures']) c.int(`${p}.${k}`, o[k], 0, U32);
  c.bool(`${p}.splitExternalLocalOriginErrors`, o['splitExternalLocalOriginErrors']);
  c.duration(`${p}.interval`, o['interval']);
  c.duration(`${p}.baseEjectionTime`, o['baseEjectionTime']);
  c.int(`${p}.maxEjectionPercent`, o['maxEjectionPercent'], 0, 100);
  c.int(`${p}.minHealthPercent`, o['minHealthPercent'], 0, 100);
  if (o['consecutiveLocalOriginFailures'] !== undefined && o['splitExternalLocalOriginErrors'] !== true) c.error(`${p}.consecutiveLocalOriginFailures`, 'requires splitExternalLocalOriginErrors: true');
}

/**
 * ClientTLSSettings. Certificates are file paths read by the proxy (Istio's sidecar semantics);
 * credentialName needs a Kubernetes secret store, which tsmesh has not: refused.
 */
function clientTls(c: Checker, p: string, v: unknown): void {
  const o = c.object(p, v, ['mode', 'clientCertificate', 'privateKey', 'caCertificates', 'subjectAltNames', 'sni', 'insecureSkipVerify'], ['credentialName', 'caCrl']);
  if (!o) return;
  const mode = c.required(`${p}.mode`, o['mode']) ? c.oneOf(`${p}.mode`, o['mode'], ['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL'] as const) : undefined;
  for (const k of ['clientCertificate', 'privateKey', 'caCertificates', 'sni']) c.string(`${p}.${k}`, o[k]);
  c.stringList(`${p}.subjectAltNames`, o['subjectAltNames']);
  c.bool(`${p}.insecureSkipVerify`, o['insecureSkipVerify']);
  if (mode === 'MUTUAL') {
    if (o['clientCertificate'] === undefined) c.error(`${p}.clientCertificate`, 'required with mode MUTUAL');
    if (o['privateKey'] === undefined) c.error(`${p}.privateKey`, 'required with mode MUTUAL');
  }
  if (mode === 'ISTIO_MUTUAL' || mode === 'DISABLE') {
    // Istio: the mesh provides (or skips) certificates; file settings would be ignored silently.
    for (const k of ['clientCertificate', 'privateKey', 'caCertificates']) if (o[k] !== undefined) c.error(`${p}.${k}`, `cannot be set with mode ${mode}`);
  }
}
