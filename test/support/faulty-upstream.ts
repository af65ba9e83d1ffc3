import net from 'node:net';
import http from 'node:http';
import http2 from 'node:http2';
import { once } from 'node:events';

/**
 * What a faulty upstream does with a request. Deterministic: tests say what happens to each
 * request instead of hoping for a failure.
 */
export type Behaviour =
  | { kind: 'ok'; body?: string; headers?: Record<string, string> }
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string> }
  /** TCP RST before any response byte. */
  | { kind: 'reset' }
  /** Closes the connection (FIN) before any response byte. */
  | { kind: 'close' }
  /** Never answers (until the connection is closed by the peer or the upstream stops). */
  | { kind: 'hang' }
  /** Sends the response head and `body`, then nothing more (the response never ends). */
  | { kind: 'stall'; body?: string }
  /** Answers `then` after `delayMs`. */
  | { kind: 'slow'; delayMs: number; then?: Behaviour }
  /** Answers `then` (default `ok`) when the test calls `release()`: no race with a clock. */
  | { kind: 'held'; then?: Behaviour }
  /** Sends bytes that are not HTTP. */
  | { kind: 'garbage' }
  /** gRPC (HTTP/2 upstreams only): 200 with grpc-status in trailers, or in the head (trailers-only). */
  | { kind: 'grpc'; grpcStatus: number; message?: string; trailersOnly?: boolean };

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** What was done with it. */
  readonly behaviour: Behaviour['kind'];
}

export interface FaultyUpstream {
  readonly port: number;
  /** Every request that arrived, in order. */
  readonly seen: SeenRequest[];
  /** Connections accepted since start. */
  readonly connections: number;
  /** Requests `held` now, waiting for `release()`. */
  readonly held: number;
  /** Answers every held request with its `then`. */
  release(): void;
  /** What requests get when the script is empty (initially `ok`). */
  setDefault(b: Behaviour): void;
  /** The next requests get these, one each, in order; then the default again. */
  script(...b: Behaviour[]): void;
  /** Stops listening and drops every connection: connects are refused from now on. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real HTTP/1.1 (node:http) or h2c (node:http2) server that fails on command. Each answer
 * carries `x-upstream: NAME` so tests can tell upstreams apart.
 */
export async function faultyUpstream(opts: { name?: string; http2?: boolean; port?: number } = {}): Promise<FaultyUpstream> {
  const name = opts.name ?? 'upstream';
  let fallback: Behaviour = { kind: 'ok' };
  const queue: Behaviour[] = [];
  const seen: SeenRequest[] = [];
  const sockets = new Set<net.Socket>();
  const held = new Set<() => void>();
  let connections = 0;
  let listening = false;

  const handle = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const b = queue.shift() ?? fallback;
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers as http.IncomingHttpHeaders, body: Buffer.concat(chunks).toString(), behaviour: b.kind });
      act(b, req, res);
    });
  };

  const act = (b: Behaviour, req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse): void => {
    const sock = req.socket as net.Socket;
    switch (b.kind) {
      case 'ok':
      case 'status': {
        const status = b.kind === 'ok' ? 200 : b.status;
        const body = b.body ?? `${name} ${status} ${req.method} ${req.url}\n`;
        res.writeHead(status, { 'content-type': 'text/plain', 'x-upstream': name, ...b.headers });
        res.end(body);
        return;
      }
      case 'grpc': {
        const r = res as http2.Http2ServerResponse;
        if (b.trailersOnly) {
          r.stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'x-upstream': name, 'grpc-status': String(b.grpcStatus), 'grpc-message': b.message ?? '' }, { endStream: true });
          return;
        }
        // The compatibility API sends its own trailers on 'wantTrailers': give it ours.
        r.writeHead(200, { 'content-type': 'application/grpc', 'x-upstream': name });
        r.addTrailers({ 'grpc-status': String(b.grpcStatus), 'grpc-message': b.message ?? '' });
        r.end();
        return;
      }
      case 'reset':
        if (res instanceof http2.Http2ServerResponse) res.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
        else sock.resetAndDestroy();
        return;
      case 'close':
        if (res instanceof http2.Http2ServerResponse) res.stream.session?.destroy();
        else sock.destroy();
        return;
      case 'hang':
        return;
      case 'stall':
        res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': name });
        (res as { write(chunk: string): boolean }).write(b.body ?? 'partial');
        return;
      case 'slow': {
        const t = setTimeout(() => act(b.then ?? { kind: 'ok' }, req, res), b.delayMs);
        sock.once('close', () => clearTimeout(t));
        return;
      }
      case 'held': {
        const answer = (): void => { held.delete(answer); act(b.then ?? { kind: 'ok' }, req, res); };
        held.add(answer);
        sock.once('close', () => held.delete(answer));
        return;
      }
      case 'garbage':
        sock.end('SSH-2.0-not-http\r\n\r\n');
        return;
    }
  };

  const server: net.Server = opts.http2 ? http2.createServer(handle) : http.createServer(handle);
  if (server instanceof http.Server) server.keepAliveTimeout = 30_000;
  server.on('connection', (s: net.Socket) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  });
  let port = opts.port ?? 0;
  const start = async (): Promise<void> => {
    if (listening) return;
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as net.AddressInfo).port;
    listening = true;
  };
  const stop = async (): Promise<void> => {
    if (!listening) return;
    listening = false;
    const closed = new Promise<void>((r) => server.close(() => r()));
    for (const s of sockets) s.destroy();
    await closed;
  };
  await start();
  return {
    get port() { return port; },
    seen,
    get connections() { return connections; },
    get held() { return held.size; },
    release: () => { for (const answer of [...held]) answer(); },
    setDefault: (b) => { fallback = b; },
    script: (...b) => { queue.push(...b); },
    stop,
    start,
    close: stop,
  };
}
