/**
 * A text format compiled for the sink's buffer (line-encoder.ts): literal text as UTF-8 bytes
 * made once, and the operators of the usual formats (Envoy's default, Istio's) as op codes that
 * one switch reads straight from the context, so a line makes no call through a closure per
 * field and no string for a number. Every other operator, and REQ/RESP with a length, goes
 * through its Extractor (get/encode) as the string formatter does; the bytes are the UTF-8 of
 * that formatter's line either way (tested against it).
 */
import type { AccessLogContext, AccessLogRequest, SocketAddress } from './context.js';
import type { Extractor } from './operators.js';
import type { LineEncoder } from './line-encoder.js';
import { responseFlagsToString } from './response-flags.js';

const enum Op {
  Generic, StartTime, Request, Response, Protocol, ResponseCode, ResponseCodeDetails, ResponseFlags,
  BytesReceived, BytesSent, Duration, UpstreamHost, UpstreamLocal, DownstreamRemote, DownstreamLocal,
  UpstreamCluster, UpstreamTransportFailureReason, RouteName, RequestedServerName,
}

/** Which field of the request a REQ() name reads. */
const enum Field { Header, Method, Path, Authority, Scheme, Never, None }

/** Operators without parameters that map to one op. */
const SIMPLE: ReadonlyMap<string, Op> = new Map([
  ['PROTOCOL', Op.Protocol],
  ['RESPONSE_CODE', Op.ResponseCode],
  ['RESPONSE_CODE_DETAILS', Op.ResponseCodeDetails],
  ['RESPONSE_FLAGS', Op.ResponseFlags],
  ['BYTES_RECEIVED', Op.BytesReceived],
  ['BYTES_SENT', Op.BytesSent],
  ['DURATION', Op.Duration],
  ['UPSTREAM_HOST', Op.UpstreamHost],
  ['UPSTREAM_REMOTE_ADDRESS', Op.UpstreamHost],
  ['UPSTREAM_LOCAL_ADDRESS', Op.UpstreamLocal],
  ['DOWNSTREAM_REMOTE_ADDRESS', Op.DownstreamRemote],
  ['DOWNSTREAM_LOCAL_ADDRESS', Op.DownstreamLocal],
  ['UPSTREAM_CLUSTER', Op.UpstreamCluster],
  ['UPSTREAM_CLUSTER_RAW', Op.UpstreamCluster],
  ['UPSTREAM_TRANSPORT_FAILURE_REASON', Op.UpstreamTransportFailureReason],
  ['ROUTE_NAME', Op.RouteName],
  ['REQUESTED_SERVER_NAME', Op.RequestedServerName],
]);

/** Operators whose value is never known: the placeholder for unknown, folded into the literal text. */
const NEVER_KNOWN: ReadonlySet<string> = new Set(['CONNECTION_TERMINATION_DETAILS']);

const utf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));

function requestField(name: string): Field {
  switch (name) {
    case ':method': return Field.Method;
    case ':path': return Field.Path;
    case ':authority': return Field.Authority;
    case ':scheme': return Field.Scheme;
    default: return name.startsWith(':') ? Field.Never : Field.Header;
  }
}

function requestValue(r: AccessLogRequest, field: Field, name: string): string | undefined {
  switch (field) {
    case Field.Header: return r.headers.get(name);
    case Field.Method: return r.method;
    case Field.Path: return r.path;
    case Field.Authority: return r.authority;
    case Field.Scheme: return r.scheme;
    default: return undefined;
  }
}

/** An empty string of these fields counts as unknown, as in operators.ts (Envoy's not-set). */
function nonEmpty(out: LineEncoder, s: string | undefined, empty: Uint8Array): void {
  if (s) out.text(s);
  else out.bytes(empty);
}

/**
 * The encoder of a parsed text format (format.ts parseFormat's parts); `empty` is what an
 * unknown value prints ('-', or '' with omit_empty_values).
 */
export function compileTextEncoder(parts: readonly (string | Extractor)[], empty: string): (ctx: AccessLogContext, out: LineEncoder) => void {
  const ops: Op[] = [];
  // The literal text before each op (one step of the loop writes both), and after the last.
  const prefixes: (Uint8Array | undefined)[] = [];
  const extractors: (Extractor | undefined)[] = [];
  // REQ/RESP: the header name (or alternative) and which request field each reads.
  const names: string[] = [];
  const alts: string[] = [];
  const fields: Field[] = [];
  const altFields: Field[] = [];
  let lit = '';
  const push = (op: Op, x: Extractor, name = '', field = Field.None, alt = '', altField = Field.None): void => {
    ops.push(op); prefixes.push(lit ? utf8(lit) : undefined); extractors.push(x); names.push(name); fields.push(field); alts.push(alt); altFields.push(altField);
    lit = '';
  };
  for (const p of parts) {
    if (typeof p === 'string') { lit += p; continue; }
    const command = p.command ?? '';
    const param = p.param ?? '';
    if (NEVER_KNOWN.has(command)) { lit += empty; continue; }
    const simple = SIMPLE.get(command);
    if (simple !== undefined) { push(simple, p); continue; }
    if (command === 'START_TIME' && param === '') { push(Op.StartTime, p); continue; }
    const headers = command === 'REQ' || command === 'REQUEST_HEADER' ? 'request' : command === 'RESP' || command === 'RESPONSE_HEADER' ? 'response' : undefined;
    if (headers !== undefined && p.maxLength === undefined) {
      const [main, alt] = param.split('?').map((n) => n.toLowerCase()) as [string, string | undefined];
      if (headers === 'request') {
        push(Op.Request, p, main, requestField(main), alt ?? '', alt === undefined ? Field.None : requestField(alt));
        continue;
      }
      // Response pseudo headers (:status) stay with their extractor.
      if (!main.startsWith(':') && !(alt?.startsWith(':') ?? false)) {
        push(Op.Response, p, main, Field.Header, alt ?? '', alt === undefined ? Field.None : Field.Header);
        continue;
      }
    }
    push(Op.Generic, p);
  }
  const suffix = lit ? utf8(lit) : undefined;
  const none = utf8(empty);
  const n = ops.length;
  // Per address op: the last address seen and whether it is IPv6 (one host repeats on most lines).
  const lastAddress = new Array<string>(n).fill('');
  const v6 = new Array<boolean>(n).fill(false);
  const address = (i: number, a: SocketAddress | undefined, out: LineEncoder): void => {
    if (a === undefined) { out.bytes(none); return; }
    const s = a.address;
    if (s !== lastAddress[i]) { lastAddress[i] = s; v6[i] = s.includes(':'); }
    if (v6[i]) { out.text('['); out.text(s); out.text(']:'); } else { out.text(s); out.text(':'); }
    out.number(a.port);
  };
  // Envoy's default START_TIME, its text up to the second kept: the milliseconds are three digits.
  let second = NaN;
  let secondText: Uint8Array = new Uint8Array(0);
  const startTime = (ms: number, out: LineEncoder): void => {
    const sec = Math.floor(ms / 1000);
    if (sec !== second) {
      const iso = new Date(sec * 1000).toISOString();
      secondText = utf8(iso.slice(0, iso.length - 4)); // through the '.' before the milliseconds
      second = sec;
    }
    out.bytes(secondText);
    const m = Math.floor(ms - sec * 1000);
    if (m < 100) out.number(0);
    if (m < 10) out.number(0);
    out.number(m);
    out.text('Z');
  };

  // Typed as always known; a context built in plain JavaScript may still leave one out.
  const count = (v: number | undefined, out: LineEncoder): void => {
    if (v === undefined) out.bytes(none); else out.number(v);
  };

  return (ctx, out) => {
    for (let i = 0; i < n; i++) {
      const prefix = prefixes[i];
      if (prefix !== undefined) out.bytes(prefix);
      switch (ops[i]) {
        case Op.StartTime: startTime(ctx.startTimeMs, out); break;
        case Op.Request: {
          const r = ctx.request;
          let v = r === undefined ? undefined : requestValue(r, fields[i]!, names[i]!);
          if (v === undefined && r !== undefined && altFields[i] !== Field.None) v = requestValue(r, altFields[i]!, alts[i]!);
          if (v === undefined) out.bytes(none); else out.text(v);
          break;
        }
        case Op.Response: {
          const h = ctx.responseHeaders;
          let v = h?.get(names[i]!);
          if (v === undefined && h !== undefined && altFields[i] !== Field.None) v = h.get(alts[i]!);
          if (v === undefined) out.bytes(none); else out.text(v);
          break;
        }
        case Op.Protocol: { const v = ctx.protocol; if (v === undefined) out.bytes(none); else out.text(v); break; }
        case Op.ResponseCode: out.number(ctx.responseCode ?? 0); break;
        case Op.ResponseCodeDetails: nonEmpty(out, ctx.responseCodeDetails, none); break;
        case Op.ResponseFlags: out.text(responseFlagsToString(ctx.responseFlags)); break;
        case Op.BytesReceived: count(ctx.bytesReceived, out); break;
        case Op.BytesSent: count(ctx.bytesSent, out); break;
        case Op.Duration: { const d = ctx.durationMs; if (d === undefined) out.bytes(none); else out.number(Math.floor(d)); break; }
        case Op.UpstreamHost: address(i, ctx.upstreamHost, out); break;
        case Op.UpstreamLocal: address(i, ctx.upstreamLocalAddress, out); break;
        case Op.DownstreamRemote: address(i, ctx.downstreamRemoteAddress, out); break;
        case Op.DownstreamLocal: address(i, ctx.downstreamLocalAddress, out); break;
        case Op.UpstreamCluster: nonEmpty(out, ctx.upstreamCluster, none); break;
        case Op.UpstreamTransportFailureReason: nonEmpty(out, ctx.upstreamTransportFailureReason, none); break;
        case Op.RouteName: nonEmpty(out, ctx.routeName, none); break;
        case Op.RequestedServerName: nonEmpty(out, ctx.requestedServerName, none); break;
        default: {
          const x = extractors[i]!;
          const enc = x.encode;
          if (enc !== undefined) { if (!enc(ctx, out)) out.bytes(none); break; }
          const v = x.get(ctx);
          if (v === undefined) out.bytes(none);
          else if (typeof v === 'number') out.number(v);
          else out.text(v);
        }
      }
    }
    if (suffix !== undefined) out.bytes(suffix);
  };
}
