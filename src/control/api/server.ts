/*
 * The control plane's HTTP server (:15014): a small router over node:http. Endpoints register
 * with `route(method, pattern, handler)`, where a pattern's `{name}` segments become params;
 * the config API is one set of routes (config-routes.ts) and the xDS debug endpoints or
 * /metrics are others. Every error is JSON `{ error, details[] }`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ApiRequest {
  readonly method: string;
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly headers: http.IncomingHttpHeaders;
  /** The request body as text (bounded by maxBodyBytes; larger is a 413). */
  text(): Promise<string>;
}

export type ApiResponse =
  | { readonly status?: number; readonly json: unknown }
  | { readonly status?: number; readonly text: string; readonly contentType?: string };

export type ApiHandler = (req: ApiRequest) => ApiResponse | Promise<ApiResponse>;

/** Thrown by handlers: becomes `status` with `{ error, details }`. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly details: readonly string[] = [], readonly extra: Readonly<Record<string, unknown>> = {}) {
    super(message);
  }
}

interface Route {
  readonly method: string;
  readonly segments: readonly string[];
  readonly handler: ApiHandler;
}

export class ApiServer {
  readonly #routes: Route[] = [];
  readonly #server: http.Server;
  readonly #maxBody: number;

  constructor(opts: { maxBodyBytes?: number } = {}) {
    this.#maxBody = opts.maxBodyBytes ?? 16 << 20;
    this.#server = http.createServer((req, res) => void this.#handle(req, res));
    this.#server.keepAliveTimeout = 5000;
  }

  /** Adds an endpoint. `pattern` is a path whose `{name}` segments match one segment each. */
  route(method: string, pattern: string, handler: ApiHandler): this {
    this.#routes.push({ method: method.toUpperCase(), segments: pattern.split('/').filter(Boolean), handler });
    return this;
  }

  async listen(port: number, host = '127.0.0.1'): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => { this.#server.off('error', reject); resolve(); });
    });
    const a = this.#server.address() as AddressInfo;
    return { host: a.address, port: a.port };
  }

  async close(): Promise<void> {
    if (!this.#server.listening) return;
    await new Promise<void>((r) => { this.#server.close(() => r()); this.#server.closeAllConnections(); });
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let response: ApiResponse;
    try {
      response = await this.#dispatch(req);
    } catch (e) {
      if (e instanceof ApiError) response = { status: e.status, json: { error: e.message, details: e.details, ...e.extra } };
      else response = { status: 500, json: { error: `internal error: ${(e as Error).message}`, details: [] } };
    }
    const status = response.status ?? 200;
    const [body, type] = 'json' in response ? [JSON.stringify(response.json, null, 2) + '\n', 'application/json'] : [response.text, response.contentType ?? 'text/plain; charset=utf-8'];
    if (!res.headersSent) res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  async #dispatch(req: http.IncomingMessage): Promise<ApiResponse> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let segments: string[];
    try {
      segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      throw new ApiError(400, `malformed path ${JSON.stringify(url.pathname)}`);
    }
    let pathMatched = false;
    for (const r of this.#routes) {
      const params = match(r.segments, segments);
      if (!params) continue;
      pathMatched = true;
      if (r.method !== req.method && !(r.method === 'GET' && req.method === 'HEAD')) continue;
      return r.handler({ method: req.method, path: url.pathname, params, query: url.searchParams, headers: req.headers, text: () => this.#body(req) });
    }
    if (pathMatched) throw new ApiError(405, `method ${req.method} not allowed on ${url.pathname}`);
    throw new ApiError(404, `no such endpoint: ${url.pathname}`);
  }

  #body(req: http.IncomingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      // Past the limit the rest is read and dropped, so the client still gets its 413.
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= this.#maxBody) chunks.push(c);
      });
      req.on('end', () => {
        if (size > this.#maxBody) reject(new ApiError(413, `request body larger than ${this.#maxBody} bytes`));
        else resolve(Buffer.concat(chunks).toString('utf8'));
      });
      req.on('error', reject);
    });
  }
}

function match(pattern: readonly string[], path: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== path.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p.startsWith('{') && p.endsWith('}')) params[p.slice(1, -1)] = path[i]!;
    else if (p !== path[i]) return undefined;
  }
  return params;
}
