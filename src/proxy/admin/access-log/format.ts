/**
 * Envoy access log formats, compiled once per config into a function of the request's values:
 * format strings and format dictionaries (JSON)
 * (https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage#format-rules),
 * and the `SubstitutionFormatString` message that carries either.
 */
import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import { ConfigError } from '../../../envoy/registry.js';
import type { SubstitutionFormatString } from '../../../envoy/generated/envoy/config/core/v3/substitution_format_string_pb.js';
import type { AccessLogContext } from './context.js';
import { compileOperator, type Extractor } from './operators.js';
import type { LineEncoder } from './line-encoder.js';
import { compileTextEncoder } from './text-encoder.js';

/** Formats one log entry; never throws. */
export interface AccessLogFormatter {
  (ctx: AccessLogContext): string;
  /**
   * Text formats: appends the same entry as UTF-8 to `out`, without building the string (what
   * a sink does with it; see line-encoder.ts). Never throws.
   */
  readonly encode?: (ctx: AccessLogContext, out: LineEncoder) => void;
}

/** Envoy's default format (source/common/formatter/http_formatter_context.cc, DEFAULT_FORMAT). */
export const DEFAULT_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" '
  + '%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% '
  + '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% '
  + '"%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" '
  + '"%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"\n';

/** Literal text or an operator. */
export type FormatPart = string | Extractor;

// Envoy's command syntax: %COMMAND(SUBCOMMAND):LENGTH%, COMMAND in [A-Z0-9_].
const COMMAND = /^%([A-Z0-9_]+)(?:\(([^)]*)\))?(?::([0-9]+))?%/;

/** Splits a format string into literals and compiled operators; `%%` is a literal `%`. */
export function parseFormat(format: string, path: string): FormatPart[] {
  const parts: FormatPart[] = [];
  let lit = '';
  for (let pos = 0; pos < format.length; pos++) {
    const c = format[pos]!;
    if (c !== '%') { lit += c; continue; }
    if (format[pos + 1] === '%') { lit += '%'; pos++; continue; }
    const m = COMMAND.exec(format.slice(pos));
    if (!m) throw new ConfigError(path, `Incorrect configuration: ${format}. Couldn't find valid command at position ${pos}`);
    if (lit) { parts.push(lit); lit = ''; }
    parts.push(compileOperator(m[1]!, m[2] ?? '', m[3] === undefined ? undefined : Number(m[3]), path));
    pos += m[0].length - 1;
  }
  if (lit || parts.length === 0) parts.push(lit);
  return parts;
}

export interface TextFormatOptions {
  /** Print unknown values as '' instead of '-' (SubstitutionFormatString.omit_empty_values). */
  readonly omitEmptyValues?: boolean;
}

/** A format string. Envoy adds no newline: the format carries its own (DEFAULT_FORMAT does). */
export function compileTextFormat(format: string, path: string, opts: TextFormatOptions = {}): AccessLogFormatter {
  const parts = parseFormat(format, path);
  const empty = opts.omitEmptyValues ? '' : '-';
  return Object.assign(concat(parts, empty), { encode: compileTextEncoder(parts, empty) });
}

function concat(parts: readonly FormatPart[], empty: string): AccessLogFormatter {
  if (parts.length === 1 && typeof parts[0] === 'string') {
    const s = parts[0];
    return () => s;
  }
  return (ctx) => {
    let s = '';
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (typeof p === 'string') { s += p; continue; }
      const v = p.get(ctx);
      s += v === undefined ? empty : v;
    }
    return s;
  };
}

export interface JsonFormatOptions {
  /**
   * Values that are a single operator keep their type (numbers for DURATION, RESPONSE_CODE,
   * BYTES_*, ...; null when unknown), as SubstitutionFormatString.json_format does. False is
   * the legacy FileAccessLog.json_format: every value a string, `-` when unknown.
   */
  readonly typed?: boolean;
  /** Leave out keys whose value is unknown. */
  readonly omitEmptyValues?: boolean;
  /** json_format_options.sort_properties: keys sorted; otherwise in config order. */
  readonly sortProperties?: boolean;
}

type ValueFn = (ctx: AccessLogContext) => JsonValue | undefined;

/** A format dictionary: one JSON object per line (Envoy appends the newline). */
export function compileJsonFormat(format: JsonObject, path: string, opts: JsonFormatOptions = {}): AccessLogFormatter {
  const root = compileObject(format, path, { typed: opts.typed ?? true, omitEmptyValues: opts.omitEmptyValues ?? false, sortProperties: opts.sortProperties ?? false });
  return (ctx) => `${JSON.stringify(root(ctx))}\n`;
}

function compileValue(v: JsonValue, path: string, o: Required<JsonFormatOptions>): ValueFn {
  if (typeof v === 'string') return compileStringValue(v, path, o);
  if (typeof v === 'number') return () => v;
  if (Array.isArray(v)) {
    const items = v.map((x, i) => compileValue(x, `${path}[${i}]`, o));
    return (ctx) => {
      const out: JsonValue[] = [];
      for (const f of items) {
        const x = f(ctx);
        if (x !== undefined) out.push(x);
      }
      return out;
    };
  }
  if (v !== null && typeof v === 'object') return compileObject(v, path, o);
  throw new ConfigError(path, 'Only string values, nested structs, list values and number values are supported in structured access log format.');
}

function compileObject(obj: JsonObject, path: string, o: Required<JsonFormatOptions>): (ctx: AccessLogContext) => JsonObject {
  const keys = Object.keys(obj);
  if (o.sortProperties) keys.sort();
  const fields = keys.map((k) => [k, compileValue(obj[k]!, `${path}.${k}`, o)] as const);
  return (ctx) => {
    const out: JsonObject = {};
    for (const [k, f] of fields) {
      const x = f(ctx);
      if (x !== undefined) out[k] = x;
    }
    return out;
  };
}

/** undefined = leave the key out (omit_empty_values). */
function compileStringValue(format: string, path: string, o: Required<JsonFormatOptions>): ValueFn {
  const parts = parseFormat(format, path);
  const only = parts.length === 1 ? parts[0]! : undefined;
  if (only === undefined || typeof only === 'string') {
    // A literal, or several pieces: always a string, unknown pieces as '-' (or '').
    return concat(parts, o.omitEmptyValues ? '' : '-');
  }
  const missing: JsonValue | undefined = o.omitEmptyValues ? undefined : o.typed ? (only.typedMissing ?? null) : '-';
  if (o.typed) {
    return (ctx) => {
      const x = only.get(ctx);
      return x === undefined ? missing : only.numeric ? x : String(x);
    };
  }
  return (ctx) => {
    const x = only.get(ctx);
    return x === undefined ? missing : String(x);
  };
}

/**
 * `SubstitutionFormatString` (envoy.config.core.v3): text_format, text_format_source
 * (inline_string / inline_bytes) or json_format (typed); absent means DEFAULT_FORMAT.
 */
export function compileSubstitutionFormat(f: SubstitutionFormatString | undefined, path: string): AccessLogFormatter {
  if (!f || f.format.case === undefined) return compileTextFormat(DEFAULT_FORMAT, path);
  if (f.formatters.length > 0) throw new ConfigError(`${path}.formatters`, 'formatter extensions are not supported');
  const omitEmptyValues = f.omitEmptyValues;
  switch (f.format.case) {
    case 'textFormat':
      return compileTextFormat(f.format.value, `${path}.text_format`, { omitEmptyValues });
    case 'jsonFormat':
      return compileJsonFormat(f.format.value, `${path}.json_format`, { typed: true, omitEmptyValues, sortProperties: f.jsonFormatOptions?.sortProperties ?? false });
    case 'textFormatSource': {
      const src = f.format.value.specifier;
      const p = `${path}.text_format_source`;
      if (src.case === 'inlineString') return compileTextFormat(src.value, `${p}.inline_string`, { omitEmptyValues });
      if (src.case === 'inlineBytes') return compileTextFormat(Buffer.from(src.value).toString('utf8'), `${p}.inline_bytes`, { omitEmptyValues });
      throw new ConfigError(p, `only inline_string and inline_bytes are supported, got ${src.case ?? 'nothing'}`);
    }
  }
}
