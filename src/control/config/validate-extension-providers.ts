/** MeshConfig.extensionProviders: the tracing (opentelemetry over HTTP, zipkin) and file access-log providers. */
import { describeValue } from './issues.js';
import type { Checker, Obj } from './checker.js';

const KINDS = ['opentelemetry', 'zipkin', 'envoyFileAccessLog'];
/** Istio provider kinds tsmesh does not implement: refused by name rather than ignored. */
const OTHER_KINDS = ['envoyExtAuthzHttp', 'envoyExtAuthzGrpc', 'datadog', 'stackdriver', 'skywalking', 'lightstep', 'envoyHttpAls', 'envoyTcpAls', 'envoyOtelAls', 'prometheus', 'sds'];

export function validateExtensionProviders(c: Checker, v: unknown): void {
  const seen = new Set<string>();
  c.array('spec.extensionProviders', v)?.forEach((raw, i) => {
    const p = `spec.extensionProviders[${i}]`;
    const o = c.object(p, raw, ['name', ...KINDS], OTHER_KINDS);
    if (!o) return;
    if (c.required(`${p}.name`, o['name'])) {
      const n = c.string(`${p}.name`, o['name']);
      if (n !== undefined) {
        if (seen.has(n)) c.error(`${p}.name`, `duplicate provider name ${describeValue(n)}`);
        if (n === 'envoy' || n === 'prometheus') c.error(`${p}.name`, `${describeValue(n)} is a built-in provider`);
        seen.add(n);
      }
    }
    const set = KINDS.filter((k) => o[k] !== undefined);
    if (set.length !== 1) { if (!OTHER_KINDS.some((k) => o[k] !== undefined)) c.error(p, `expected exactly one of ${KINDS.join(', ')}${set.length ? `, got ${set.join(' and ')}` : ''}`); return; }
    const k = set[0]!;
    if (k === 'opentelemetry') {
      const ot = c.object(`${p}.opentelemetry`, o[k], ['service', 'port', 'http'], ['grpc', 'resourceDetectors', 'dynatraceSampler', 'maxTagLength']);
      if (!ot) return;
      service(c, `${p}.opentelemetry`, ot);
      if (ot['http'] === undefined) { c.error(`${p}.opentelemetry.http`, 'required: tsmesh exports OTLP over HTTP (protobuf) only, not gRPC'); return; }
      const h = c.object(`${p}.opentelemetry.http`, ot['http'], ['path', 'timeout', 'headers']);
      if (!h) return;
      const path = c.string(`${p}.opentelemetry.http.path`, h['path']);
      if (path !== undefined && path !== '' && !path.startsWith('/')) c.error(`${p}.opentelemetry.http.path`, `expected a path starting with "/", got ${describeValue(path)}`);
      c.duration(`${p}.opentelemetry.http.timeout`, h['timeout']);
      c.array(`${p}.opentelemetry.http.headers`, h['headers'])?.forEach((x, j) => {
        const hp = `${p}.opentelemetry.http.headers[${j}]`;
        const ho = c.object(hp, x, ['name', 'value']);
        if (!ho) return;
        if (c.required(`${hp}.name`, ho['name'])) { const n = c.string(`${hp}.name`, ho['name']); if (n !== undefined) c.headerName(`${hp}.name`, n); }
        c.string(`${hp}.value`, ho['value']);
      });
    } else if (k === 'zipkin') {
      const z = c.object(`${p}.zipkin`, o[k], ['service', 'port', 'maxTagLength', 'enable64bitTraceId', 'path'], ['headers', 'traceContextOption', 'timeout']);
      if (!z) return;
      service(c, `${p}.zipkin`, z);
      c.int(`${p}.zipkin.maxTagLength`, z['maxTagLength'], 1, 65535);
      c.bool(`${p}.zipkin.enable64bitTraceId`, z['enable64bitTraceId']);
      const path = c.string(`${p}.zipkin.path`, z['path']);
      if (path !== undefined && path !== '' && !path.startsWith('/')) c.error(`${p}.zipkin.path`, `expected a path starting with "/", got ${describeValue(path)}`);
    } else {
      const f = c.object(`${p}.envoyFileAccessLog`, o[k], ['path', 'logFormat']);
      if (!f) return;
      if (c.required(`${p}.envoyFileAccessLog.path`, f['path'])) c.string(`${p}.envoyFileAccessLog.path`, f['path']);
      const lf = c.object(`${p}.envoyFileAccessLog.logFormat`, f['logFormat'], ['text', 'labels']);
      if (!lf) return;
      if (lf['text'] !== undefined && lf['labels'] !== undefined) c.error(`${p}.envoyFileAccessLog.logFormat`, 'expected text or labels, not both');
      c.string(`${p}.envoyFileAccessLog.logFormat.text`, lf['text']);
      c.stringMap(`${p}.envoyFileAccessLog.logFormat.labels`, lf['labels']);
    }
  });
}

function service(c: Checker, path: string, o: Obj): void {
  if (c.required(`${path}.service`, o['service'])) c.host(`${path}.service`, o['service'], { wildcard: false });
  if (c.required(`${path}.port`, o['port'])) c.port(`${path}.port`, o['port']);
}

/** MeshConfig.defaultProviders. */
export function validateDefaultProviders(c: Checker, v: unknown): void {
  const d = c.object('spec.defaultProviders', v, ['tracing', 'accessLogging', 'metrics']);
  if (!d) return;
  c.stringList('spec.defaultProviders.tracing', d['tracing']);
  if (Array.isArray(d['tracing']) && d['tracing'].length > 1) c.error('spec.defaultProviders.tracing', `at most one tracing provider is supported, got ${d['tracing'].length}`);
  c.stringList('spec.defaultProviders.accessLogging', d['accessLogging']);
  c.stringList('spec.defaultProviders.metrics', d['metrics'], (p, s) => { if (s !== 'prometheus') c.error(p, `only "prometheus" is supported, got ${describeValue(s)}`); });
}
