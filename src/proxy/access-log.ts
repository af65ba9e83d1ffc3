import type { AccessLogContext } from './admin/access-log/context.js';
import type { AccessLogger } from './admin/access-log/logger.js';
import type { HttpStream } from './http/conn-manager/http-stream.js';
import type { TcpSession } from './tcp/tcp-proxy.js';
export { compileAccessLogs, type AccessLogger } from './admin/access-log/logger.js';
export { flushAccessLogs } from './admin/access-log/sink.js';

/** Logs a finished HTTP stream to each logger. Runs once per request, after the response. */
export function logAccess(loggers: readonly AccessLogger[], s: HttpStream): void {
  const host = s.upstreamHost;
  const c = s.conn;
  const first = s.firstUpstreamByteMs;
  const ctx: AccessLogContext = {
    startTimeMs: s.startMs,
    request: s.req,
    responseHeaders: s.responseHeaders,
    responseTrailers: s.responseTrailers,
    protocol: s.req?.protocol,
    responseCode: s.status,
    responseCodeDetails: s.details,
    responseFlags: s.flags,
    bytesReceived: s.bytesReceived,
    bytesSent: s.bytesSent,
    durationMs: s.elapsedMs(),
    responseDurationMs: first >= 0 ? first : undefined,
    upstreamHost: host,
    upstreamCluster: s.upstreamCluster?.name,
    downstreamRemoteAddress: s.downstreamAddress,
    downstreamDirectRemoteAddress: { address: c.remoteAddress, port: c.remotePort },
    downstreamLocalAddress: { address: c.localAddress, port: c.localPort },
    routeName: s.route?.route.name,
    requestedServerName: c.serverName,
    connectionId: c.id,
    attemptCount: s.attemptCount,
  };
  for (const l of loggers) l.log(ctx);
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
