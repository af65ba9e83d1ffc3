/**
 * Envoy's /stats output (https://www.envoyproxy.io/docs/envoy/latest/operations/admin#get--stats):
 * counters and gauges together sorted by name, then histograms sorted by name.
 */
import { SUPPORTED_QUANTILES, supportedQuantiles } from './histogram-buckets.js';
import type { HistogramSample, StatInfo, StatsSnapshot, StatsStore } from './stats.js';

export interface StatsRenderOptions {
  /** Envoy's `filter=`: keep stats whose full name this matches anywhere (a search, not a full match). */
  readonly filter?: RegExp;
  /** Envoy's `usedonly`: keep stats that were ever written (histograms: ever recorded). */
  readonly usedOnly?: boolean;
}

/** The samples a renderer prints, filtered as the options say. */
export function selectStats(store: StatsStore, opts: StatsRenderOptions = {}): StatsSnapshot {
  const snap = store.snapshot();
  const f = opts.filter && (opts.filter.global || opts.filter.sticky) ? new RegExp(opts.filter.source, opts.filter.flags.replace(/[gy]/g, '')) : opts.filter;
  const keep = (info: StatInfo, used: boolean): boolean => (!opts.usedOnly || used) && (!f || f.test(info.name));
  return {
    counters: snap.counters.filter((s) => keep(s.info, s.used)),
    gauges: snap.gauges.filter((s) => keep(s.info, s.used)),
    histograms: snap.histograms.filter((s) => keep(s.info, s.cumulative.count > 0)),
  };
}

/** `/stats`: `name: value` lines; histograms as `name: P0(interval,cumulative) ... P100(..)`. */
export function renderText(store: StatsStore, opts: StatsRenderOptions = {}): string {
  const s = selectStats(store, opts);
  const numeric = [...s.counters, ...s.gauges].sort((a, b) => compare(a.info.name, b.info.name));
  let out = '';
  for (const n of numeric) out += `${n.info.name}: ${n.value}\n`;
  for (const h of sortHistograms(s.histograms)) out += `${h.info.name}: ${quantileSummary(h)}\n`;
  return out;
}

/** `/stats?format=json`: Envoy's `{"stats":[{"name","value"}..., {"histograms":{...}}]}`. */
export function renderJson(store: StatsStore, opts: StatsRenderOptions = {}): string {
  const s = selectStats(store, opts);
  const stats: unknown[] = [...s.counters, ...s.gauges]
    .sort((a, b) => compare(a.info.name, b.info.name))
    .map((n) => ({ name: n.info.name, value: n.value }));
  if (s.histograms.length > 0) {
    stats.push({
      histograms: {
        supported_quantiles: SUPPORTED_QUANTILES.map((q) => Math.round(q * 1000) / 10),
        computed_quantiles: sortHistograms(s.histograms).map((h) => {
          const cum = supportedQuantiles(h.cumulative.buckets);
          const int = h.interval ? supportedQuantiles(h.interval.buckets) : undefined;
          return { name: h.info.name, values: cum.map((c, i) => ({ interval: jsonNumber(int?.[i]), cumulative: jsonNumber(c) })) };
        }),
      },
    });
  }
  return JSON.stringify({ stats });
}

/** Envoy's ParentHistogram::quantileSummary. */
function quantileSummary(h: HistogramSample): string {
  if (h.cumulative.count === 0) return 'No recorded values';
  const cum = supportedQuantiles(h.cumulative.buckets);
  const int = h.interval ? supportedQuantiles(h.interval.buckets) : undefined;
  return SUPPORTED_QUANTILES.map((q, i) => `P${Math.round(q * 1000) / 10}(${fmtDouble(int?.[i] ?? NaN)},${fmtDouble(cum[i]!)})`).join(' ');
}

function sortHistograms(h: readonly HistogramSample[]): HistogramSample[] {
  return [...h].sort((a, b) => compare(a.info.name, b.info.name));
}

/** Code-unit order, as Envoy's std::string comparison (not locale order). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** fmt's `{}` for a double: shortest round-trip, `nan` for NaN. */
function fmtDouble(v: number): string {
  return Number.isNaN(v) ? 'nan' : String(v);
}

function jsonNumber(v: number | undefined): number | null {
  return v === undefined || Number.isNaN(v) ? null : v;
}
