/**
 * HTTP health checks (Envoy's HttpHealthCheckerImpl) over HTTP/1.1 (node:http) or, with
 * codec_client_type HTTP2, cleartext HTTP/2 (node:http2): a request to `path` with the
 * configured host header and `user-agent: Envoy/HC`; healthy when the status is expected (and
 * the body holds the `receive` blocks, if any). A status outside expected_statuses fails the
 * host at once unless it is retriable; a connection failure, reset or truncated answer is a
 * network failure. Not the data path: the standard modules are fine here.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type http2 from 'node:http2';
import { HealthSession } from './h2-session.js';
import { HeaderMap } from '../../http/headers.js';
import type { ProbeSpec } from './config.js';
import { inRanges } from './config.js';
import { payloadMatches } from './payload.js';
import { OK, activeFailure, networkFailure, type Probe, type ProbeResult, type ProbeTarget } from './probe.js';

type HttpProbeSpec = Extract<ProbeSpec, { kind: 'http' }>;

/** Envoy's health checker identifies itself so upstreams can tell checks from traffic. */
const USER_AGENT = 'Envoy/HC';

/** The request headers (besides the method, path and authority), as Envoy builds them. */
export function healthCheckHeaders(spec: HttpProbeSpec): HeaderMap {
  const h = new HeaderMap(['user-agent', USER_AGENT]);
  spec.headers?.apply(h);
  return h;
}

/**
 * The verdict on a complete response. A failing one that carries
 * x-envoy-immediate-health-check-fail (an Envoy health check filter failing, say) also excludes
 * the host, as Envoy's HTTP health checker does.
 */
export function judgeResponse(spec: HttpProbeSpec, status: number, body: Buffer, immediateFail = false): ProbeResult {
  if (!inRanges(status, spec.expectedStatuses)) {
    return excludedIf(activeFailure(`unexpected status ${status}`, inRanges(status, spec.retriableStatuses)), immediateFail);
  }
  if (spec.receive.length > 0) {
    const window = spec.responseBufferSize > 0 ? body.subarray(0, spec.responseBufferSize) : body;
    if (!payloadMatches(spec.receive, window)) return excludedIf(activeFailure('response body does not match'), immediateFail);
  }
  return OK;
}

const IMMEDIATE_FAIL = 'x-envoy-immediate-health-check-fail';

function excludedIf(r: Extract<ProbeResult, { ok: false }>, immediateFail: boolean): ProbeResult {
  return immediateFail ? { ...r, excluded: true } : r;
}

export class Http1Probe implements Probe {
  readonly #agent: http.Agent | false;
  #req: http.ClientRequest | undefined;

  constructor(readonly target: ProbeTarget, readonly spec: HttpProbeSpec, reuse: boolean) {
    this.#agent = reuse || target.transport ? new http.Agent({ keepAlive: reuse, maxSockets: 1 }) : false;
    const t = target.transport;
    // Over TLS the agent's connections come from the cluster's transport socket.
    if (t && this.#agent) (this.#agent as unknown as { createConnection: () => Duplex }).createConnection = () => t.connect(target.address, target.port);
  }

  check(): Promise<ProbeResult> {
    const { spec } = this;
    const headers: Record<string, string | string[]> = { host: spec.authority };
    const h = healthCheckHeaders(spec);
    for (let i = 0; i < h.list.length; i += 2) {
      const prev = headers[h.list[i]!];
      headers[h.list[i]!] = prev === undefined ? h.list[i + 1]! : [...(Array.isArray(prev) ? prev : [prev]), h.list[i + 1]!];
    }
    return new Promise((resolve) => {
      let done = false;
      const finish = (r: ProbeResult): void => { if (!done) { done = true; resolve(r); } };
      const req = http.request({ host: this.target.address, port: this.target.port, method: spec.method, path: spec.path, headers, agent: this.#agent });
      this.#req = req;
      req.on('error', (e) => finish(networkFailure(e.message)));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          // Only the start of the body can matter (response_buffer_size); the rest is drained.
          if (spec.receive.length > 0 && (spec.responseBufferSize === 0 || size < spec.responseBufferSize)) { chunks.push(c); size += c.length; }
        });
        res.on('end', () => finish(judgeResponse(spec, res.statusCode ?? 0, Buffer.concat(chunks), res.headers[IMMEDIATE_FAIL] !== undefined)));
        res.on('aborted', () => finish(networkFailure('response truncated')));
        res.on('error', (e) => finish(networkFailure(e.message)));
      });
      req.end();
    });
  }

  abort(): void {
    this.#req?.destroy();
    this.#req = undefined;
  }

  close(): void {
    this.abort();
    if (this.#agent) this.#agent.destroy();
  }
}

export class Http2Probe implements Probe {
  readonly #session: HealthSession;

  constructor(readonly target: ProbeTarget, readonly spec: HttpProbeSpec, readonly reuse: boolean) {
    this.#session = new HealthSession(target);
  }

  check(): Promise<ProbeResult> {
    const { spec } = this;
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
      const session = this.#session.get();
      const headers: http2.OutgoingHttpHeaders = { ':method': spec.method, ':path': spec.path, ':authority': spec.authority, ':scheme': 'http' };
      const h = healthCheckHeaders(spec);
      for (let i = 0; i < h.list.length; i += 2) headers[h.list[i]!] = h.list[i + 1]!;
      let stream: http2.ClientHttp2Stream;
      try {
        stream = session.request(headers, { endStream: true });
      } catch (e) {
        finish(networkFailure((e as Error).message));
        return;
      }
      let status = 0;
      let immediateFail = false;
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('response', (rh) => { status = Number(rh[':status'] ?? 0); immediateFail = rh[IMMEDIATE_FAIL] !== undefined; });
      stream.on('data', (c: Buffer) => {
        if (spec.receive.length > 0 && (spec.responseBufferSize === 0 || size < spec.responseBufferSize)) { chunks.push(c); size += c.length; }
      });
      stream.on('end', () => finish(status ? judgeResponse(spec, status, Buffer.concat(chunks), immediateFail) : networkFailure('no response')));
      stream.on('error', (e) => finish(networkFailure(e.message)));
      stream.on('close', () => finish(networkFailure(`stream reset (code ${stream.rstCode})`)));
    });
  }
  abort(): void {
    this.#session.abort();
  }

  close(): void {
    this.abort();
  }
}
