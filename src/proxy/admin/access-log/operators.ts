/**
 * Envoy's command operators
 * (https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage#command-operators):
 * each turns an AccessLogContext into one value. Which operators take `(param)` and `:length`
 * is checked as Envoy's CommandSyntaxChecker does, with its messages.
 */
import os from 'node:os';
import { ConfigError } from '../../../envoy/registry.js';
import type { AccessLogContext, SocketAddress } from './context.js';
import { responseFlagsToLongString, responseFlagsToString } from './response-flags.js';
import { compileStartTime } from './start-time.js';
import type { LineEncoder } from './line-encoder.js';

/** One compiled operator. */
export interface Extractor {
  /** The value, or undefined when not known (text prints `-`, typed JSON null). */
  get(ctx: AccessLogContext): string | number | undefined;
  /** Typed JSON prints a number (get() returns numbers exactly then). */
  readonly numeric: boolean;
  /** What typed JSON prints instead of null when the value is unknown (PROTOCOL prints "-"). */
  readonly typedMissing?: string;
  /**
   * Text formats: appends the value straight to `out` (the text get() would return, without
   * building it); false, having appended nothing, when the value is unknown.
   */
  readonly encode?: (ctx: AccessLogContext, out: LineEncoder) => boolean;
  /**
   * What it was compiled from (`%COMMAND(param):maxLength%`): a text format's encoder
   * (text-encoder.ts) reads the common operators' values itself instead of calling get().
   */
  readonly command?: string;
  readonly param?: string;
  readonly maxLength?: number;
}

type Params = 'none' | 'optional' | 'required';

interface OperatorSpec {
  readonly params: Params;
  /** Whether `:N` (truncate to N characters) is allowed. */
  readonly length: boolean;
  make(param: string, maxLength: number | undefined, path: string): Extractor;
}

const str = (get: (c: AccessLogContext) => string | undefined): OperatorSpec => ({ params: 'none', length: false, make: () => ({ get, numeric: false }) });
const num = (get: (c: AccessLogContext) => number | undefined): OperatorSpec => ({ params: 'none', length: false, make: () => ({ get, numeric: true }) });
/** Envoy treats an empty string field as not set. */
const nonEmpty = (s: string | undefined): string | undefined => (s ? s : undefined);
const ms = (v: number | undefined): number | undefined => (v === undefined ? undefined : Math.floor(v));

/** `ip:port`, `[v6]:port`. */
export function formatAddress(a: SocketAddress): string {
  return a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/**
 * formatAddress remembering its last answer: the local address of a listener and the host of a
 * one-endpoint cluster repeat on every line.
 */
function lastAddressText(): (a: SocketAddress) => string {
  let address = '';
  let port = -1;
  let text = '';
  return (a) => {
    if (a.port !== port || a.address !== address) { text = formatAddress(a); address = a.address; port = a.port; }
    return text;
  };
}

/**
 * formatAddress's text appended to a line without building it: the client's address differs by
 * port on every connection, and a string made per line would also be flattened to be encoded.
 */
function addressEncoder(pick: (c: AccessLogContext) => SocketAddress | undefined): (c: AccessLogContext, out: LineEncoder) => boolean {
  let last = '';
  let v6 = false;
  return (c, out) => {
    const a = pick(c);
    if (!a) return false;
    if (a.address !== last) { last = a.address; v6 = last.includes(':'); }
    if (v6) { out.text('['); out.text(last); out.text(']:'); } else { out.text(last); out.text(':'); }
    out.number(a.port);
    return true;
  };
}

const address = (pick: (c: AccessLogContext) => SocketAddress | undefined): Record<'full' | 'noPort' | 'port', OperatorSpec> => ({
  full: { params: 'none', length: false, make: () => { const text = lastAddressText(); return { get: (c) => { const a = pick(c); return a && text(a); }, numeric: false, encode: addressEncoder(pick) }; } },
  noPort: str((c) => pick(c)?.address),
  port: num((c) => pick(c)?.port),
});

const downstreamRemote = address((c) => c.downstreamRemoteAddress);
const downstreamDirectRemote = address((c) => c.downstreamDirectRemoteAddress ?? c.downstreamRemoteAddress);
const downstreamLocal = address((c) => c.downstreamLocalAddress);
const upstreamHost = address((c) => c.upstreamHost);
const upstreamLocal = address((c) => c.upstreamLocalAddress);

type HeaderSource = 'request' | 'response' | 'trailers';

function headerOperator(source: HeaderSource): OperatorSpec {
  return {
    params: 'required',
    length: true,
    make(param, maxLength, path) {
      const names = param.split('?');
      if (names.length > 2) throw new ConfigError(path, `More than 1 alternative header specified in token: ${param}`);
      for (const n of names) {
        if (!/^:?[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(n)) throw new ConfigError(path, `Invalid header configuration. Format string contains invalid characters: ${JSON.stringify(n)}`);
      }
      const main = headerLookup(source, names[0]!.toLowerCase());
      const alt = names[1] === undefined ? undefined : headerLookup(source, names[1].toLowerCase());
      return {
        numeric: false,
        get(ctx) {
          let v = main(ctx);
          if (v === undefined && alt !== undefined) v = alt(ctx);
          return v !== undefined && maxLength !== undefined ? v.slice(0, maxLength) : v;
        },
      };
    },
  };
}

/**
 * The reader of one header, chosen when the format is compiled (a line then compares no names):
 * pseudo headers from the request's fields, others the first value (Envoy logs the first of
 * repeated headers); a pseudo header the map cannot hold is never there.
 */
function headerLookup(source: HeaderSource, name: string): (ctx: AccessLogContext) => string | undefined {
  if (source === 'request') {
    switch (name) {
      case ':method': return (c) => c.request?.method;
      case ':path': return (c) => c.request?.path;
      case ':authority': return (c) => c.request?.authority;
      case ':scheme': return (c) => c.request?.scheme;
      default: return name.startsWith(':') ? () => undefined : (c) => c.request?.headers.get(name);
    }
  }
  if (source === 'response') {
    if (name === ':status') return (c) => (c.responseCode ? String(c.responseCode) : undefined);
    return name.startsWith(':') ? () => undefined : (c) => c.responseHeaders?.get(name);
  }
  return name.startsWith(':') ? () => undefined : (c) => c.responseTrailers?.get(name);
}

const startTime: OperatorSpec = {
  params: 'optional',
  length: false,
  make(param, _len, path) {
    const format = compileStartTime(param, path);
    return { get: (c) => format(c.startTimeMs), numeric: false };
  },
};

const hostname: OperatorSpec = {
  params: 'none',
  length: false,
  make() {
    const h = os.hostname() || undefined;
    return { get: () => h, numeric: false };
  },
};

const protocol: OperatorSpec = { params: 'none', length: false, make: () => ({ get: (c) => c.protocol, numeric: false, typedMissing: '-' }) };

const OPERATORS: ReadonlyMap<string, OperatorSpec> = new Map<string, OperatorSpec>([
  ['START_TIME', startTime],
  ['REQ', headerOperator('request')],
  ['REQUEST_HEADER', headerOperator('request')],
  ['RESP', headerOperator('response')],
  ['RESPONSE_HEADER', headerOperator('response')],
  ['TRAILER', headerOperator('trailers')],
  ['RESPONSE_TRAILER', headerOperator('trailers')],
  ['PROTOCOL', protocol],
  ['UPSTREAM_PROTOCOL', str((c) => c.upstreamProtocol)],
  ['RESPONSE_CODE', num((c) => c.responseCode ?? 0)],
  ['RESPONSE_CODE_DETAILS', str((c) => nonEmpty(c.responseCodeDetails))],
  ['RESPONSE_FLAGS', str((c) => responseFlagsToString(c.responseFlags))],
  ['RESPONSE_FLAGS_LONG', str((c) => responseFlagsToLongString(c.responseFlags))],
  ['BYTES_RECEIVED', num((c) => c.bytesReceived)],
  ['BYTES_SENT', num((c) => c.bytesSent)],
  ['DURATION', num((c) => ms(c.durationMs))],
  ['REQUEST_DURATION', num((c) => ms(c.requestDurationMs))],
  ['RESPONSE_DURATION', num((c) => ms(c.responseDurationMs))],
  ['UPSTREAM_HOST', upstreamHost.full],
  ['UPSTREAM_REMOTE_ADDRESS', upstreamHost.full],
  ['UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT', upstreamHost.noPort],
  ['UPSTREAM_REMOTE_PORT', upstreamHost.port],
  ['UPSTREAM_CLUSTER', str((c) => nonEmpty(c.upstreamCluster))],
  // Envoy's UPSTREAM_CLUSTER may print the cluster's alt_stat_name; tsmesh has none, so both are the name (Istio's format uses _RAW).
  ['UPSTREAM_CLUSTER_RAW', str((c) => nonEmpty(c.upstreamCluster))],
  ['UPSTREAM_LOCAL_ADDRESS', upstreamLocal.full],
  ['UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT', upstreamLocal.noPort],
  ['UPSTREAM_LOCAL_PORT', upstreamLocal.port],
  ['UPSTREAM_TRANSPORT_FAILURE_REASON', str((c) => nonEmpty(c.upstreamTransportFailureReason))],
  ['UPSTREAM_REQUEST_ATTEMPT_COUNT', num((c) => c.attemptCount ?? 0)],
  ['DOWNSTREAM_REMOTE_ADDRESS', downstreamRemote.full],
  ['DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT', downstreamRemote.noPort],
  ['DOWNSTREAM_REMOTE_PORT', downstreamRemote.port],
  // No PROXY protocol or trusted XFF hops yet: the direct peer is the remote address.
  ['DOWNSTREAM_DIRECT_REMOTE_ADDRESS', downstreamDirectRemote.full],
  ['DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT', downstreamDirectRemote.noPort],
  ['DOWNSTREAM_DIRECT_REMOTE_PORT', downstreamDirectRemote.port],
  ['DOWNSTREAM_LOCAL_ADDRESS', downstreamLocal.full],
  ['DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT', downstreamLocal.noPort],
  ['DOWNSTREAM_LOCAL_PORT', downstreamLocal.port],
  ['ROUTE_NAME', str((c) => nonEmpty(c.routeName))],
  ['REQUESTED_SERVER_NAME', str((c) => nonEmpty(c.requestedServerName))],
  ['CONNECTION_ID', num((c) => c.connectionId ?? 0)],
  // Details of a connection the proxy itself closed (Envoy: RBAC denials and the like); tsmesh records none yet.
  ['CONNECTION_TERMINATION_DETAILS', str(() => undefined)],
  ['HOSTNAME', hostname],
]);

/** Names of every supported operator, for docs and error messages. */
export const OPERATOR_NAMES: readonly string[] = [...OPERATORS.keys()];

/**
 * Compiles `%COMMAND(param):length%`. `param` is '' when there were no parentheses. Throws
 * ConfigError at `path` with Envoy's wording for an unknown operator or a syntax mismatch.
 */
export function compileOperator(command: string, param: string, maxLength: number | undefined, path: string): Extractor {
  const spec = OPERATORS.get(command);
  if (!spec) throw new ConfigError(path, `Not supported field in StreamInfo: ${command}`);
  if (spec.params === 'none' && (param !== '' || maxLength !== undefined)) throw new ConfigError(path, `${command} does not take any parameters or length`);
  if (spec.params === 'required' && param === '') throw new ConfigError(path, `${command} requires parameters`);
  if (!spec.length && maxLength !== undefined) throw new ConfigError(path, `${command} does not allow length to be specified.`);
  const x = spec.make(param, maxLength, path);
  // One shape for every operator, so the loops that call them read one kind of object.
  return { get: x.get, numeric: x.numeric, typedMissing: x.typedMissing, encode: x.encode, command, param, maxLength };
}
