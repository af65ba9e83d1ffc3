import http from 'node:http';
import type net from 'node:net';
import { once } from 'node:events';

/** An HTTP/1.1 server whose /healthz answers as told, while other paths (traffic) answer 200 or 503. */
export interface HealthServer {
  readonly name: string;
  readonly port: number;
  health: 'ok' | 'fail' | 'hang';
  /** What other paths (traffic) get: 200, or 503. */
  serve: 'ok' | 'fail';
  /** Headers on every health check answer. */
  checkHeaders: Record<string, string> | undefined;
  /** Headers for the next traffic response only (then cleared). */
  nextHeaders: Record<string, string> | undefined;
  /** Health checks received, with the verdict given and the headers. */
  readonly checks: { answered: 'ok' | 'fail' | 'hang'; host: string | undefined; userAgent: string | undefined }[];
  traffic: number;
  close(): Promise<void>;
}

export async function healthServer(name: string): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      const answered = hs.health;
      hs.checks.push({ answered, host: req.headers.host, userAgent: req.headers['user-agent'] });
      if (answered === 'hang') return;
      res.writeHead(answered === 'ok' ? 200 : 503, hs.checkHeaders).end();
      return;
    }
    hs.traffic++;
    const extra = hs.nextHeaders;
    hs.nextHeaders = undefined;
    res.writeHead(hs.serve === 'ok' ? 200 : 503, { 'x-upstream': name, ...extra }).end(name);
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const hs: HealthServer = {
    name, port: (server.address() as net.AddressInfo).port, health: 'ok', serve: 'ok', checkHeaders: undefined, nextHeaders: undefined, checks: [], traffic: 0,
    close: () => { server.closeAllConnections(); return new Promise((r) => server.close(() => r())); },
  };
  return hs;
}
