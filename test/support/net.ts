import net from 'node:net';
import http from 'node:http';
import { once } from 'node:events';
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const handedOut = new Set<number>();

/**
 * Ports handed out by any test process, one file per port holding its pid: test files run two
 * at a time, and a port one of them has checked but not yet bound must not pass the other's
 * check in that moment (it did: both bound it and one proxy failed with EADDRINUSE).
 */
const RESERVED = join(tmpdir(), 'tsmesh-test-ports');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Claims `port` for this process unless a live test process holds it. */
function reserve(port: number): boolean {
  mkdirSync(RESERVED, { recursive: true });
  const file = join(RESERVED, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder = 0;
    try { holder = Number(readFileSync(file, 'utf8')); } catch { /* gone meanwhile: try again */ }
    if (holder > 0 && alive(holder)) return false;
    // Left by a process that has exited.
    try { unlinkSync(file); } catch { /* another process took it over first */ }
  }
  return false;
}

process.on('exit', () => {
  for (const port of handedOut) {
    try { unlinkSync(join(RESERVED, String(port))); } catch { /* already gone */ }
  }
});

/**
 * A port that was free a moment ago (loopback), for a proxy listener the test then configures.
 * Drawn below the kernel's ephemeral range (32768+), where every `listen(0)` and outgoing
 * connection of concurrently running tests gets its port, so none of them can take it in the
 * moment before the proxy binds it; reserved across test processes (RESERVED) for the same reason.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (handedOut.has(port)) continue;
    const s = net.createServer();
    const ok = await new Promise<boolean>((resolve) => {
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!ok) continue;
    await new Promise<void>((r) => s.close(() => r()));
    if (!reserve(port)) continue;
    handedOut.add(port);
    return port;
  }
}

/**
 * Sends raw bytes and collects everything the server sends until it closes the connection or
 * `idleMs` passes without data. Returns the text and whether the server closed.
 */
export async function rawExchange(port: number, data: string | Buffer | (string | Buffer)[], idleMs = 1500): Promise<{ text: string; closed: boolean }> {
  const sock = net.connect(port, '127.0.0.1');
  await once(sock, 'connect');
  const parts = Array.isArray(data) ? data : [data];
  for (const p of parts) sock.write(p);
  const chunks: Buffer[] = [];
  return new Promise((resolve) => {
    let timer = setTimeout(finish, idleMs);
    let closed = false;
    function finish(): void {
      clearTimeout(timer);
      sock.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed });
    }
    sock.on('data', (d) => { chunks.push(d); clearTimeout(timer); timer = setTimeout(finish, idleMs); });
    sock.on('end', () => { closed = true; finish(); });
    sock.on('error', () => { closed = true; finish(); });
  });
}

export interface Upstream {
  port: number;
  /** Every request the upstream saw: method, url, headers, body. */
  seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[];
  close(): Promise<void>;
}

/** A real HTTP/1.1 server (node:http) answering with `handler`; records what arrives. */
export async function httpUpstream(handler?: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void): Promise<Upstream> {
  const seen: Upstream['seen'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (handler) handler(req, res, body);
      else { res.setHeader('content-type', 'text/plain'); res.end(`hello from upstream ${req.method} ${req.url}\n`); }
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    seen,
    close: () => { server.closeAllConnections(); return new Promise((r) => server.close(() => r())); },
  };
}

/** A TCP server whose every connection is handed to `onConnection` (to script faults). */
export async function rawUpstream(onConnection: (s: net.Socket) => void): Promise<{ port: number; close(): Promise<void>; connections: number }> {
  const sockets = new Set<net.Socket>();
  const state = { connections: 0 };
  const server = net.createServer((s) => { state.connections++; sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => {}); onConnection(s); });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() { return state.connections; },
    close: () => { for (const s of sockets) s.destroy(); return new Promise((r) => server.close(() => r())); },
  };
}

/** One HTTP/1.1 request through a fresh connection (no agent reuse unless given one). */
export function request(port: number, opts: http.RequestOptions & { body?: string | Buffer } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, agent: false, ...opts }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}
