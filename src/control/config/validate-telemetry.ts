/** Telemetry (telemetry.istio.io/v1): the tracing and access-logging parts tsmesh implements. */
import { describeValue, keyPath } from './issues.js';
import type { Checker, Obj } from './checker.js';
import { parseAccessLogExpression } from './access-log-expression.js';

const MODES = ['CLIENT', 'SERVER', 'CLIENT_AND_SERVER'] as const;

export function validateTelemetry(c: Checker, raw: unknown): void {
  const spec = c.object('spec', raw, ['selector', 'tracing', 'accessLogging', 'metrics'], ['targetRef', 'targetRefs']);
  if (!spec) return;
  const sel = c.object('spec.selector', spec['selector'], ['matchLabels']);
  if (sel) c.labels('spec.selector.matchLabels', sel['matchLabels']);
  c.array('spec.tracing', spec['tracing'])?.forEach((t, i) => tracing(c, `spec.tracing[${i}]`, t));
  c.array('spec.accessLogging', spec['accessLogging'])?.forEach((a, i) => accessLogging(c, `spec.accessLogging[${i}]`, a));
  c.array('spec.metrics', spec['metrics'])?.forEach((m, i) => {
    const p = `spec.metrics[${i}]`;
    const o = c.object(p, m, ['providers'], ['overrides', 'reportingInterval']);
    if (!o) return;
    providers(c, `${p}.providers`, o['providers'])?.forEach((name, j) => {
      if (name !== 'prometheus') c.error(`${p}.providers[${j}].name`, `only "prometheus" is supported (the proxy's own Prometheus endpoint), got ${describeValue(name)}`);
    });
  });
}

function match(c: Checker, path: string, v: unknown): void {
  const m = c.object(path, v, ['mode']);
  if (m) c.oneOf(`${path}.mode`, m['mode'], MODES);
}

function providers(c: Checker, path: string, v: unknown): string[] | undefined {
  const a = c.array(path, v);
  if (!a) return undefined;
  const names: string[] = [];
  a.forEach((p, i) => {
    const o = c.object(`${path}[${i}]`, p, ['name']);
    if (!o) return;
    if (c.required(`${path}[${i}].name`, o['name'])) { const n = c.string(`${path}[${i}].name`, o['name']); if (n !== undefined) names.push(n); }
  });
  return names;
}

function tracing(c: Checker, path: string, v: unknown): void {
  const t = c.object(path, v, ['match', 'providers', 'randomSamplingPercentage', 'disableSpanReporting', 'customTags'], ['useRequestIdForTraceSampling', 'enableIstioTags']);
  if (!t) return;
  match(c, `${path}.match`, t['match']);
  const names = providers(c, `${path}.providers`, t['providers']);
  // Envoy has one tracer per connection manager; Istio documents the same limit.
  if (names && names.length > 1) c.error(`${path}.providers`, `at most one tracing provider is supported, got ${names.length}`);
  const pct = t['randomSamplingPercentage'];
  if (pct !== undefined && (typeof pct !== 'number' || !Number.isFinite(pct) || pct < 0 || pct > 100)) c.error(`${path}.randomSamplingPercentage`, `expected a number 0-100, got ${describeValue(pct)}`);
  c.bool(`${path}.disableSpanReporting`, t['disableSpanReporting']);
  const tags = c.map(`${path}.customTags`, t['customTags']);
  for (const [name, tag] of Object.entries(tags ?? {})) customTag(c, keyPath(`${path}.customTags`, name), tag);
}

function customTag(c: Checker, path: string, v: unknown): void {
  const o = c.object(path, v, ['literal', 'environment', 'header']);
  if (!o) return;
  const set = ['literal', 'environment', 'header'].filter((k) => o[k] !== undefined);
  if (set.length !== 1) { c.error(path, `expected exactly one of literal, environment, header${set.length ? `, got ${set.join(' and ')}` : ''}`); return; }
  const l = c.object(`${path}.literal`, o['literal'], ['value']);
  if (l) c.string(`${path}.literal.value`, l['value']);
  for (const k of ['environment', 'header']) {
    const e = c.object(`${path}.${k}`, o[k], ['name', 'defaultValue']) as Obj | undefined;
    if (!e) continue;
    if (c.required(`${path}.${k}.name`, e['name'])) c.string(`${path}.${k}.name`, e['name']);
    c.string(`${path}.${k}.defaultValue`, e['defaultValue']);
  }
}

function accessLogging(c: Checker, path: string, v: unknown): void {
  const a = c.object(path, v, ['match', 'providers', 'disabled', 'filter']);
  if (!a) return;
  match(c, `${path}.match`, a['match']);
  providers(c, `${path}.providers`, a['providers']);
  c.bool(`${path}.disabled`, a['disabled']);
  const f = c.object(`${path}.filter`, a['filter'], ['expression']);
  if (!f) return;
  if (!c.required(`${path}.filter.expression`, f['expression'])) return;
  const expr = c.string(`${path}.filter.expression`, f['expression']);
  if (expr === undefined) return;
  const r = parseAccessLogExpression(expr);
  if ('error' in r) c.error(`${path}.filter.expression`, r.error);
}
