import { isIP } from 'node:net';
import type { RateLimit, RateLimit_Action } from '../../../envoy/generated/envoy/config/route/v3/route_components_pb.js';
import { ConfigError } from '../../../envoy/registry.js';
import { asciiLower } from './ascii.js';
import { compileHeaderMatcher, type RequestPredicate } from './header-matcher.js';
import { compileQueryParameterMatcher } from './query-matcher.js';
import type { RouteRequest } from './request.js';

/**
 * A rate limit descriptor as one string: its entries' keys and values in order, each followed
 * by NUL (`k\0v\0k\0v\0`). Two descriptors are equal exactly when their strings are, which is
 * how the local rate limit filter matches them ("verbatim"); header values cannot hold NUL and
 * configured keys and values are refused if they do.
 */
export type DescriptorKey = string;

/** Builds a DescriptorKey from entries. */
export function descriptorKey(entries: readonly (readonly [key: string, value: string])[]): DescriptorKey {
  let s = '';
  for (const [k, v] of entries) s += `${k}\0${v}\0`;
  return s;
}

/** What an action looks at besides the request head. */
export interface DescriptorContext {
  /** The downstream client's address (the remote_address action). */
  readonly remoteAddress: string;
}

/** One `rate_limits` entry of a route or virtual host (Envoy's RateLimitPolicyEntry). */
export interface CompiledRateLimit {
  /** `stage` (0-10): only filters configured with the same stage use it. */
  readonly stage: number;
  /** Whether `disable_key` is set: the local rate limit filter then skips the entry, as Envoy's does. */
  readonly hasDisableKey: boolean;
  /**
   * Envoy's `populateDescriptors`: the actions in order each add an entry (or, for
   * request_headers with skip_if_absent and no header, nothing); if any action cannot, the
   * entry yields no descriptor. Returns the descriptor, or undefined.
   */
  descriptor(req: RouteRequest, ctx: DescriptorContext): DescriptorKey | undefined;
}

/**
 * One action: returns the text it appends to the descriptor ('' for nothing), or undefined
 * when the descriptor must not be generated.
 */
type Action = (req: RouteRequest, ctx: DescriptorContext) => string | undefined;

class RateLimitEntry implements CompiledRateLimit {
  constructor(readonly stage: number, readonly hasDisableKey: boolean, readonly actions: readonly Action[]) {}

  descriptor(req: RouteRequest, ctx: DescriptorContext): DescriptorKey | undefined {
    let out = '';
    for (const a of this.actions) {
      const part = a(req, ctx);
      if (part === undefined) return undefined;
      out += part;
    }
    return out === '' ? undefined : out;
  }
}

const MAX_STAGE = 10;

/** Compiles a route's or virtual host's `rate_limits`; `path` names the list. */
export function compileRateLimits(list: readonly RateLimit[], path: string): CompiledRateLimit[] {
  return list.map((rl, i) => {
    const p = `${path}[${i}]`;
    const stage = rl.stage ?? 0;
    if (stage > MAX_STAGE) throw new ConfigError(`${p}.stage`, `must be at most ${MAX_STAGE}, got ${stage}`);
    if (rl.limit) throw new ConfigError(`${p}.limit`, 'limit overrides are for the global rate limit service, which tsmesh does not implement');
    if (rl.actions.length === 0) throw new ConfigError(`${p}.actions`, 'at least one action is required');
    return new RateLimitEntry(stage, rl.disableKey !== '', rl.actions.map((a, j) => compileAction(a, `${p}.actions[${j}]`)));
  });
}

function compileAction(a: RateLimit_Action, path: string): Action {
  const s = a.actionSpecifier;
  switch (s.case) {
    case 'requestHeaders': {
      const p = `${path}.request_headers`;
      const name = asciiLower(s.value.headerName);
      if (!name) throw new ConfigError(`${p}.header_name`, 'must not be empty');
      const key = configText(s.value.descriptorKey, `${p}.descriptor_key`, true);
      const skip = s.value.skipIfAbsent;
      const prefix = `${key}\0`;
      return (req) => {
        const v = firstHeader(req, name);
        if (v === undefined) return skip ? '' : undefined;
        return `${prefix}${v}\0`;
      };
    }
    case 'remoteAddress': {
      // Only IP peers yield an entry (a pipe has no address).
      return (_req, ctx) => (isIP(ctx.remoteAddress) ? `remote_address\0${ctx.remoteAddress}\0` : undefined);
    }
    case 'genericKey': {
      const p = `${path}.generic_key`;
      const value = configText(s.value.descriptorValue, `${p}.descriptor_value`, true);
      const key = configText(s.value.descriptorKey, `${p}.descriptor_key`, false) || 'generic_key';
      const part = `${key}\0${value}\0`;
      return () => part;
    }
    case 'headerValueMatch': {
      const p = `${path}.header_value_match`;
      const value = configText(s.value.descriptorValue, `${p}.descriptor_value`, true);
      const key = configText(s.value.descriptorKey, `${p}.descriptor_key`, false) || 'header_match';
      if (s.value.headers.length === 0) throw new ConfigError(`${p}.headers`, 'at least one header matcher is required');
      const matchers = s.value.headers.map((h, i) => compileHeaderMatcher(h, `${p}.headers[${i}]`));
      return matchAction(matchers, s.value.expectMatch ?? true, `${key}\0${value}\0`);
    }
    case 'queryParameterValueMatch': {
      const p = `${path}.query_parameter_value_match`;
      const value = configText(s.value.descriptorValue, `${p}.descriptor_value`, true);
      const key = configText(s.value.descriptorKey, `${p}.descriptor_key`, false) || 'query_match';
      if (s.value.queryParameters.length === 0) throw new ConfigError(`${p}.query_parameters`, 'at least one query parameter matcher is required');
      const matchers = s.value.queryParameters.map((q, i) => compileQueryParameterMatcher(q, `${p}.query_parameters[${i}]`));
      return matchAction(matchers, s.value.expectMatch ?? true, `${key}\0${value}\0`);
    }
    case undefined:
      throw new ConfigError(path, 'one action is required');
    default: {
      const field = s.case.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
      throw new ConfigError(`${path}.${field}`, 'not supported by tsmesh: use request_headers, remote_address, generic_key, header_value_match or query_parameter_value_match');
    }
  }
}

/** header_value_match / query_parameter_value_match: the entry when (all match) === expect_match. */
function matchAction(matchers: readonly RequestPredicate[], expect: boolean, part: string): Action {
  return (req) => {
    let all = true;
    for (const m of matchers) if (!m(req)) { all = false; break; }
    return all === expect ? part : undefined;
  };
}

function configText(v: string, path: string, required: boolean): string {
  if (required && v === '') throw new ConfigError(path, 'must not be empty');
  if (v.includes('\0')) throw new ConfigError(path, 'must not contain NUL');
  return v;
}

/** The first value of a header (Envoy's descriptor actions read only the first); pseudo-headers too. */
function firstHeader(req: RouteRequest, name: string): string | undefined {
  switch (name) {
    case ':authority': return req.authority;
    case ':path': return req.path;
    case ':method': return req.method;
    case ':scheme': return req.scheme ?? 'http';
    default: return req.headers.get(name);
  }
}
