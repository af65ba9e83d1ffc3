/**
 * gRPC health checks (Envoy's GrpcHealthCheckerImpl): `grpc.health.v1.Health/Check` for
 * `service_name` over cleartext HTTP/2. Healthy when the call ends with grpc-status 0 and one
 * HealthCheckResponse saying SERVING; any other answer fails the host at once; a connection
 * failure or a reset stream is a network failure.
 */
import type http2 from 'node:http2';
import { HealthSession } from './h2-session.js';
import type { ProbeSpec } from './config.js';
import { HEALTH_CHECK_PATH, SERVING, decodeHealthCheckResponse, encodeHealthCheckRequest } from './grpc-health.js';
import { OK, activeFailure, networkFailure, type Probe, type ProbeResult, type ProbeTarget } from './probe.js';

type GrpcProbeSpec = Extract<ProbeSpec, { kind: 'grpc' }>;

/** The verdict on a finished call. */
export function judgeGrpc(httpStatus: number, grpcStatus: string | undefined, body: Buffer): ProbeResult {
  if (httpStatus !== 200) return activeFailure(`non-200 HTTP response ${httpStatus}`);
  if (grpcStatus !== '0') return activeFailure(`grpc-status ${grpcStatus ?? '(none)'}`);
  const status = decodeHealthCheckResponse(body);
  if (status === undefined) return activeFailure('malformed HealthCheckResponse');
  return status === SERVING ? OK : activeFailure(`serving status ${status}`);
}

export class GrpcProbe implements Probe {
  readonly #session: HealthSession;
  readonly #request: Buffer;

  constructor(readonly target: ProbeTarget, readonly spec: GrpcProbeSpec, readonly reuse: boolean) {
    this.#session = new HealthSession(target);
    this.#request = encodeHealthCheckRequest(spec.serviceName);
  }

  check(): Promise<ProbeResult> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (r: ProbeResult): void => {
        if (done) return;
        done = true;
        this.#session.onGone = undefined;
        if (!this.reuse) this.#session.drop();
        resolve(r);
      };
      this.#session.onGone = () => finish(networkFailure('connection closed'));
      const headers: http2.OutgoingHttpHeaders = {
        ':method': 'POST', ':path': HEALTH_CHECK_PATH, ':authority': this.spec.authority, ':scheme': 'http',
        'content-type': 'application/grpc', te: 'trailers',
      };
      for (const [k, v] of this.spec.metadata) headers[k] = v;
      let stream: http2.ClientHttp2Stream;
      try {
        stream = this.#session.get().request(headers);
      } catch (e) {
        finish(networkFailure((e as Error).message));
        return;
      }
      let httpStatus = 0;
      let grpcStatus: string | undefined;
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('response', (h) => {
        httpStatus = Number(h[':status'] ?? 0);
        // A trailers-only answer carries grpc-status in the headers.
        if (h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status']);
      });
      stream.on('trailers', (t) => { if (t['grpc-status'] !== undefined) grpcStatus = String(t['grpc-status']); });
      // A response is a few bytes; a server sending more is wrong, and is not buffered whole.
      stream.on('data', (c: Buffer) => { if (size <= 65536) { chunks.push(c); size += c.length; } });
      stream.on('end', () => finish(httpStatus ? judgeGrpc(httpStatus, grpcStatus, Buffer.concat(chunks)) : networkFailure('no response')));
      stream.on('error', (e) => finish(networkFailure(e.message)));
      stream.on('close', () => finish(networkFailure(`stream reset (code ${stream.rstCode})`)));
      stream.end(this.#request);
    });
  }

  abort(): void {
    this.#session.abort();
  }

  close(): void {
    this.abort();
  }
}
