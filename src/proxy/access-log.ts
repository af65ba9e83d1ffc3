import type { AccessLogContext, AccessLogRequest, SocketAddress } from './admin/access-log/context.js';
import type { HeaderMap } from './http/headers.js';
import type { AccessLogger } from './admin/access-log/logger.js';
import type { HttpStream } from './http/conn-manager/http-stream.js';
import type { TcpSession } from './tcp/tcp-proxy.js';
import type { ConnectionInfo } from './http/conn-manager/connection-info.js';
import type { AccessLog } from '../envoy/generated/envoy/config/accesslog/v3/accesslog_pb.js';
import { ConfigError } from '../envoy/registry.js';
import { onTypesNamed } from '../envoy/type-registry.js';
export type { AccessLogger } from './admin/access-log/logger.js';

/*
 * The access loggers (formats, sinks, filters and the logger descriptors) are loaded when a
 * config first names one of their types: config decoding builds its registry with registryFor,
 * which runs loadAccessLoggers first (as for HTTP filters). A proxy that logs nothing never
 * loads them.
 */

/**
 * The loggers logger.ts implements, by type name, with the fields it reads (the support table;
 * their descriptors load with the loggers), in the order its errors list them.
 */
export const ACCESS_LOGGER_SUPPORT: ReadonlyArray<readonly [string, string]> = [
  ['envoy.extensions.access_loggers.file.v3.FileAccessLog', 'path log_format format json_format'],
  ['envoy.extensions.access_loggers.stream.v3.StdoutAccessLog', 'log_format'],
  ['envoy.extensions.access_loggers.stream.v3.StderrAccessLog', 'log_format'],
];

/** The logger types tsmesh has. */
export const ACCESS_LOGGER_TYPES: readonly string[] = ACCESS_LOGGER_SUPPORT.map(([name]) => name);

let loggers: typeof import('./admin/access-log/logger.js') | undefined;
let sinks: typeof import('./admin/access-log/sink.js') | undefined;

/** Loads the access loggers if `typeNames` has one of their types. */
export async function loadAccessLoggers(typeNames: Iterable<string>): Promise<void> {
  if (loggers) return;
  for (const name of typeNames) {
    if (!ACCESS_LOGGER_TYPES.includes(name)) continue;
    [loggers, sinks] = await Promise.all([import('./admin/access-log/logger.js'), import('./admin/access-log/sink.js')]);
    return;
  }
}

onTypesNamed(loadAccessLoggers);

/** Every entry of a repeated `access_log` field at `path`, compiled (admin/access-log/logger.ts). */
export function compileAccessLogs(configs: readonly AccessLog[], path: string): AccessLogger[] {
  if (configs.length === 0) return [];
  if (loggers) return loggers.compileAccessLogs(configs, path);
  // Not loaded: no entry names a logger tsmesh has, and the first is refused as the compiler would.
  configs.forEach((c, i) => {
    const p = `${path}[${i}].typed_config`;
    if (c.configType.case !== 'typedConfig') throw new ConfigError(p, 'required');
    const url = c.configType.value.typeUrl;
    if (ACCESS_LOGGER_TYPES.includes(url.slice(url.lastIndexOf('/') + 1))) throw new Error('access loggers used before loadAccessLoggers loaded them');
    throw new ConfigError(p, `unsupported access logger ${url || '(no @type)'}; supported: ${ACCESS_LOGGER_TYPES.map((n) => `type.googleapis.com/${n}`).join(', ')}`);
  });
  return [];
}

/** Writes out what the access log sinks hold (at exit). */
export async function flushAccessLogs(): Promise<void> {
  await sinks?.flushAccessLogs();
}

/**
 * A finished HTTP stream as access loggers read it. Values are read from the stream when a
 * format asks for them, so a request pays only for the fields its formats print (Istio's text
 * format prints about twenty of the context's fields; a filter may read none). The duration is
 * taken when the stream finishes, as Envoy's StreamInfo does.
 */
class HttpAccessLogContext implements AccessLogContext {
  s!: HttpStream;
  durationMs = 0;
  get startTimeMs(): number { return this.s.startMs; }
  get request(): AccessLogRequest | undefined { return this.s.req; }
  get responseHeaders(): HeaderMap | undefined { return this.s.responseHeaders; }
  get responseTrailers(): HeaderMap | undefined { return this.s.responseTrailers; }
  get protocol(): string | undefined { return this.s.req?.protocol; }
  get responseCode(): number { return this.s.status; }
  get responseCodeDetails(): string { return this.s.details; }
  get responseFlags(): number { return this.s.flags; }
  get bytesReceived(): number { return this.s.bytesReceived; }
  get bytesSent(): number { return this.s.bytesSent; }
  get responseDurationMs(): number | undefined { const first = this.s.firstUpstreamByteMs; return first >= 0 ? first : undefined; }
  get upstreamHost(): SocketAddress | undefined { return this.s.upstreamHost; }
  get upstreamCluster(): string | undefined { return this.s.upstreamCluster?.name; }
  get downstreamRemoteAddress(): SocketAddress { return this.s.downstreamAddress; }
  get downstreamDirectRemoteAddress(): SocketAddress { const c = this.s.conn; return { address: c.remoteAddress, port: c.remotePort }; }
  get downstreamLocalAddress(): SocketAddress { return localAddressOf(this.s.conn); }
  get routeName(): string | undefined { return this.s.route?.route.name; }
  get requestedServerName(): string | undefined { return this.s.conn.serverName; }
  get connectionId(): number { return this.s.conn.id; }
  get attemptCount(): number | undefined { return this.s.attemptCount; }
}

let lastLocal: SocketAddress = { address: '', port: -1 };

/** A connection's local address; the connections of a listener share one, so the last is kept. */
function localAddressOf(c: ConnectionInfo): SocketAddress {
  if (c.localPort !== lastLocal.port || c.localAddress !== lastLocal.address) lastLocal = { address: c.localAddress, port: c.localPort };
  return lastLocal;
}

/**
 * The one context of this thread, bound to each stream in turn: loggers read it only while
 * log() runs (AccessLogger's contract), so a request allocates none.
 */
const httpContext = new HttpAccessLogContext();

/** Logs a finished HTTP stream to each logger. Runs once per request, after the response. */
export function logAccess(loggers: readonly AccessLogger[], s: HttpStream): void {
  const ctx = httpContext;
  ctx.s = s;
  ctx.durationMs = s.elapsedMs();
  for (let i = 0; i < loggers.length; i++) loggers[i]!.log(ctx);
}

export function logTcpAccess(loggers: readonly AccessLogger[], s: TcpSession, durationMs: number): void {
  const c = s.info;
  const [address, port] = splitHostPort(s.host);
  const ctx: AccessLogContext = {
    startTimeMs: s.startMs,
    responseFlags: s.flags,
    bytesReceived: s.received,
    bytesSent: s.sent,
    durationMs,
    upstreamHost: address ? { address, port } : undefined,
    upstreamCluster: s.cluster || undefined,
    downstreamRemoteAddress: { address: c.remoteAddress, port: c.remotePort },
    downstreamLocalAddress: { address: c.localAddress, port: c.localPort },
    requestedServerName: c.serverName,
    connectionId: c.id,
  };
  for (const l of loggers) l.log(ctx);
}

function splitHostPort(key: string): [string, number] {
  const i = key.lastIndexOf(':');
  if (i < 0) return ['', 0];
  return [key.slice(0, i).replace(/^\[|\]$/g, ''), Number(key.slice(i + 1))];
}
