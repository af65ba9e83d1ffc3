import http from 'node:http';
import type { AddressInfo } from 'node:net';

/*
 * A small bookinfo-like application for the demo: productpage → details, reviews (v1, v2, v3)
 * → ratings. Plain node:http servers that know nothing about the mesh: they reach each other by
 * service name through the standard HTTP_PROXY convention (absolute-form requests to the proxy),
 * which is how an unmodified application joins the mesh without traffic capture.
 */

export interface AppOptions {
  /** The sidecar's outbound port (HTTP_PROXY); undefined calls services directly by name. */
  readonly proxyPort?: number;
  /** ratings only: answer 500 to every other request (the retry scene). */
  readonly flaky?: boolean;
}

export interface RunningApp {
  readonly name: string;
  readonly version: string;
  readonly port: number;
  readonly options: { flaky: boolean };
  close(): Promise<void>;
}

const NS = 'default.svc.cluster.local';
/** Headers an application must pass along for routing and tracing, as bookinfo does. */
const PROPAGATE = ['end-user', 'x-request-id', 'traceparent', 'tracestate', 'b3', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-sampled'];

interface Reply { status: number; body: unknown }

/** GET http://<service>.<ns>:9080<path> through the HTTP proxy, as any HTTP_PROXY-aware client. */
function call(opts: AppOptions, service: string, path: string, incoming: http.IncomingHttpHeaders): Promise<Reply> {
  const url = `http://${service}.${NS}:9080${path}`;
  const headers: Record<string, string> = {};
  for (const h of PROPAGATE) { const v = incoming[h]; if (typeof v === 'string') headers[h] = v; }
  return new Promise((resolve) => {
    const req = opts.proxyPort !== undefined
      ? http.request({ host: '127.0.0.1', port: opts.proxyPort, path: url, headers: { ...headers, host: `${service}.${NS}:9080` }, agent: keepAlive })
      : http.request(url, { headers, agent: keepAlive });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let body: unknown = text;
        try { body = JSON.parse(text); } catch { /* not JSON: keep the text */ }
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('error', () => resolve({ status: 0, body: 'response error' }));
    });
    req.on('error', (e) => resolve({ status: 0, body: e.message }));
    req.end();
  });
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 32 });

type Handler = (req: http.IncomingMessage) => Promise<Reply>;

function handlerFor(name: string, version: string, opts: AppOptions, state: { flaky: boolean; count: number }): Handler {
  switch (name) {
    case 'productpage':
      return async (req) => {
        const [details, reviews] = await Promise.all([call(opts, 'details', '/details/0', req.headers), call(opts, 'reviews', '/reviews/0', req.headers)]);
        return { status: 200, body: { product: 'The Comedy of Errors', details: details.status === 200 ? details.body : { error: details.status }, reviews: reviews.status === 200 ? reviews.body : { error: reviews.status, detail: reviews.body } } };
      };
    case 'details':
      return async () => ({ status: 200, body: { id: 0, author: 'William Shakespeare', year: 1595, pages: 200 } });
    case 'reviews':
      return async (req) => {
        if (version === 'v1') return { status: 200, body: { version } };
        const ratings = await call(opts, 'ratings', '/ratings/0', req.headers);
        const stars = version === 'v2' ? 'black' : 'red';
        return { status: 200, body: ratings.status === 200 ? { version, stars, ratings: ratings.body } : { version, stars, ratings: `unavailable (${ratings.status || 'no answer'})` } };
      };
    case 'ratings':
      return async () => {
        state.count++;
        if (state.flaky && state.count % 2 === 0) return { status: 500, body: { error: 'ratings is flaky' } };
        return { status: 200, body: { Reviewer1: 5, Reviewer2: 4 } };
      };
    default:
      throw new Error(`unknown service ${name}`);
  }
}

/** Starts one service instance on 127.0.0.1:port (0 = any). */
export async function startApp(name: string, version: string, port: number, opts: AppOptions = {}): Promise<RunningApp> {
  const state = { flaky: opts.flaky ?? false, count: 0 };
  const handle = handlerFor(name, version, opts, state);
  let lastCaller = '';
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const xfcc = req.headers['x-forwarded-client-cert'];
      if (typeof xfcc === 'string') lastCaller = xfcc;
      // The demo's own knobs (captured mode, where the app runs in a process of its own).
      if (req.url?.startsWith('/demo/')) {
        if (req.method === 'POST' && req.url.startsWith('/demo/flaky?on=')) state.flaky = req.url.endsWith('=1');
        res.end(req.url === '/demo/last-caller' ? lastCaller : 'ok');
        return;
      }
      void handle(req).then((r) => {
        const text = JSON.stringify(r.body);
        res.writeHead(r.status, { 'content-type': 'application/json', 'x-app': `${name}-${version}` });
        res.end(text);
      });
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', () => resolve()); });
  return {
    name,
    version,
    port: (server.address() as AddressInfo).port,
    options: state,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
