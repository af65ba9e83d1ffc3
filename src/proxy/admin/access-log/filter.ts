/**
 * `access_log[].filter` (envoy.config.accesslog.v3.AccessLogFilter): which finished requests a
 * logger writes. Envoy's semantics (source/common/access_log/access_log_impl.cc): status and
 * duration comparisons against `default_value` (no runtime layer), and/or of two or more
 * filters, request headers, response flags. Pure.
 */
import type { AccessLogFilter, ComparisonFilter } from '../../../envoy/generated/envoy/config/accesslog/v3/accesslog_pb.js';
import { ComparisonFilter_Op } from '../../../envoy/generated/envoy/config/accesslog/v3/accesslog_pb.js';
import { ConfigError } from '../../../envoy/registry.js';
import { compileHeaderMatcher } from '../../http/route/header-matcher.js';
import type { AccessLogContext } from './context.js';
import { responseFlagBit } from './response-flags.js';

export type AccessLogPredicate = (ctx: AccessLogContext) => boolean;

export function compileAccessLogFilter(f: AccessLogFilter, path: string): AccessLogPredicate {
  const s = f.filterSpecifier;
  switch (s.case) {
    case 'statusCodeFilter': {
      const cmp = comparison(s.value.comparison, `${path}.status_code_filter.comparison`);
      return (ctx) => cmp(ctx.responseCode ?? 0);
    }
    case 'durationFilter': {
      const cmp = comparison(s.value.comparison, `${path}.duration_filter.comparison`);
      return (ctx) => ctx.durationMs !== undefined && cmp(Math.floor(ctx.durationMs));
    }
    // tsmesh has no health-check filter that marks requests, so none is a health check.
    case 'notHealthCheckFilter': return () => true;
    case 'andFilter':
    case 'orFilter': {
      const name = s.case === 'andFilter' ? 'and_filter' : 'or_filter';
      if (s.value.filters.length < 2) throw new ConfigError(`${path}.${name}.filters`, `at least 2 filters are required, got ${s.value.filters.length}`);
      const parts = s.value.filters.map((x, i) => compileAccessLogFilter(x, `${path}.${name}.filters[${i}]`));
      return s.case === 'andFilter' ? (ctx) => parts.every((p) => p(ctx)) : (ctx) => parts.some((p) => p(ctx));
    }
    case 'headerFilter': {
      if (!s.value.header) throw new ConfigError(`${path}.header_filter.header`, 'required');
      const m = compileHeaderMatcher(s.value.header, `${path}.header_filter.header`);
      return (ctx) => ctx.request !== undefined && m(ctx.request);
    }
    case 'responseFlagFilter': {
      let mask = 0;
      s.value.flags.forEach((name, i) => {
        const bit = responseFlagBit(name);
        if (bit === undefined) throw new ConfigError(`${path}.response_flag_filter.flags[${i}]`, `unknown response flag ${JSON.stringify(name)}`);
        mask |= bit;
      });
      return mask === 0 ? (ctx) => ctx.responseFlags !== 0 : (ctx) => (ctx.responseFlags & mask) !== 0;
    }
    case undefined: throw new ConfigError(path, 'a filter is required');
    default: throw new ConfigError(`${path}.${snake(s.case)}`, 'not supported; supported: status_code_filter, duration_filter, not_health_check_filter, and_filter, or_filter, header_filter, response_flag_filter');
  }
}

function comparison(c: ComparisonFilter | undefined, path: string): (v: number) => boolean {
  if (!c) throw new ConfigError(path, 'required');
  if (!c.value) throw new ConfigError(`${path}.value`, 'required');
  const want = c.value.defaultValue;
  switch (c.op) {
    case ComparisonFilter_Op.EQ: return (v) => v === want;
    case ComparisonFilter_Op.GE: return (v) => v >= want;
    case ComparisonFilter_Op.LE: return (v) => v <= want;
    default: throw new ConfigError(`${path}.op`, `unknown op ${String(c.op)}`);
  }
}

function snake(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
