/**
 * Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format) as Envoy's
 * /stats/prometheus prints it (source/server/admin/prometheus_stats.cc): counters, then gauges,
 * then histograms; within each, one group per metric name sorted by name, a `# TYPE` line, the
 * series sorted by full stat name, and a blank line after the group.
 */
import { BUCKET_BOUNDS } from './histogram-buckets.js';
import { selectStats, type StatsRenderOptions } from './render.js';
import type { HistogramSample, StatInfo, StatsStore } from './stats.js';

export function renderPrometheus(store: StatsStore, opts: StatsRenderOptions = {}): string {
  const s = selectStats(store, opts);
  return group(s.counters, 'counter', (name, x) => `${name}{${labels(x.info.tags)}} ${x.value}\n`)
    + group(s.gauges, 'gauge', (name, x) => `${name}{${labels(x.info.tags)}} ${x.value}\n`)
    + group(s.histograms, 'histogram', histogramLines);
}

/**
 * Envoy's metric name: `envoy_` + tag-extracted name with every [^a-zA-Z0-9_] as `_`; a stat in
 * a custom stat namespace (`istio.`, as Istio registers it for its standard metrics) is printed
 * without the namespace and without `envoy_`: `istio_requests_total`.
 */
export function prometheusName(info: StatInfo): string {
  const t = info.tagExtractedName;
  return t.startsWith(CUSTOM_NAMESPACE) ? sanitize(t.slice(CUSTOM_NAMESPACE.length)) : `envoy_${sanitize(t)}`;
}

const CUSTOM_NAMESPACE = 'istio.';

function group<T extends { readonly info: StatInfo }>(items: readonly T[], type: string, lines: (name: string, item: T) => string): string {
  const groups = new Map<string, T[]>();
  for (const it of items) {
    const name = prometheusName(it.info);
    const g = groups.get(name);
    if (g) g.push(it);
    else groups.set(name, [it]);
  }
  let out = '';
  for (const name of [...groups.keys()].sort()) {
    out += `# TYPE ${name} ${type}\n`;
    for (const it of groups.get(name)!.sort((a, b) => (a.info.name < b.info.name ? -1 : a.info.name > b.info.name ? 1 : 0))) out += lines(name, it);
    out += '\n';
  }
  return out;
}

function histogramLines(name: string, h: HistogramSample): string {
  const tags = labels(h.info.tags);
  const prefix = tags ? `${tags},` : '';
  const { buckets, count, sum } = h.cumulative;
  let out = '';
  let cumulative = 0;
  for (let i = 0; i < BUCKET_BOUNDS.length; i++) {
    cumulative += buckets[i]!;
    out += `${name}_bucket{${prefix}le="${formatG32(BUCKET_BOUNDS[i]!)}"} ${cumulative}\n`;
  }
  out += `${name}_bucket{${prefix}le="+Inf"} ${count}\n`;
  out += `${name}_sum{${tags}} ${formatG32(sum)}\n`;
  out += `${name}_count{${tags}} ${count}\n`;
  return out;
}

function labels(tags: readonly (readonly [string, string])[]): string {
  return tags.map(([k, v]) => `${sanitize(k)}="${escapeLabelValue(v)}"`).join(',');
}

function sanitize(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

/** The exposition format's escapes for label values: backslash, double quote, line feed. */
export function escapeLabelValue(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/**
 * C's `%.32g`, which Envoy uses for `le` bounds and sums: 32 significant digits, trailing zeros
 * dropped, exponent form only below 1e-4 or from 1e32.
 */
export function formatG32(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
  if (v === 0) return '0';
  const [mantissa, expText] = v.toExponential(31).split('e') as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 32) {
    const m = trimZeros(mantissa);
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return trimZeros(v.toPrecision(32));
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}
