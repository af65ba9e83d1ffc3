/**
 * Starting the benchmark's servers (nginx, haproxy, tsmesh) from generated config files in a
 * temporary directory, and checking that they serve before any load is applied. A server that
 * does not come up within its deadline is stopped and reported by a thrown Error whose message
 * is the reason (exit status and last log line, or what did not answer).
 */
import { writeFileSync, existsSync } from 'node:fs';
import { join, delimiter } from 'node:path';
import { startServer, waitUntil, portOpen, http1Get, http2Get, type ServerProcess, type SimpleResponse } from './processes.js';

/** A command's path, looking in PATH and then in the sbin directories that root's PATH has. */
export function resolveCommand(name: string): string {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const d of dirs) {
    if (d && existsSync(join(d, name))) return join(d, name);
  }
  return name;
}

async function started(server: ServerProcess, ready: () => Promise<void>): Promise<ServerProcess> {
  try {
    await ready();
    return server;
  } catch (e) {
    await server.stop(1000);
    throw e;
  }
}

function allOpen(ports: readonly number[]): () => Promise<boolean> {
  return async () => (await Promise.all(ports.map((p) => portOpen(p)))).every((ok) => ok);
}

/** nginx in the foreground (`daemon off`) with the config text written to DIR/nginx-NAME.conf. */
export async function startNginx(name: string, dir: string, conf: string, ports: readonly number[], timeoutMs = 10_000): Promise<ServerProcess> {
  const file = join(dir, `nginx-${name}.conf`);
  writeFileSync(file, conf);
  const server = startServer(`nginx ${name}`, resolveCommand('nginx'), ['-p', dir, '-e', 'stderr', '-c', file]);
  return started(server, () => waitUntil(`nginx ${name} listening on ${ports.join(', ')}`, allOpen(ports), timeoutMs, server));
}

/** haproxy in the foreground (`-db`), config written to DIR/haproxy.cfg. */
export async function startHaproxy(dir: string, conf: string, ports: readonly number[], timeoutMs = 10_000): Promise<ServerProcess> {
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, conf);
  const server = startServer('haproxy', resolveCommand('haproxy'), ['-db', '-f', file]);
  return started(server, () => waitUntil(`haproxy listening on ${ports.join(', ')}`, allOpen(ports), timeoutMs, server));
}

export interface TsmeshOptions {
  /** The CLI script, normally bin/tsmesh.js of the checkout. */
  bin: string;
  dir: string;
  bootstrap: string;
  adminPort: number;
  concurrency: number;
  /** Flags for node before the script (e.g. --cpu-prof). */
  nodeFlags?: readonly string[];
}

/** `node bin/tsmesh.js proxy -c DIR/tsmesh-bootstrap.yaml --concurrency N`, ready when admin /ready is 200. */
export async function startTsmesh(o: TsmeshOptions, timeoutMs = 30_000): Promise<ServerProcess> {
  const bin = o.bin;
  if (!existsSync(bin)) throw new Error(`${bin} does not exist`);
  const file = join(o.dir, 'tsmesh-bootstrap.yaml');
  writeFileSync(file, o.bootstrap);
  const server = startServer('tsmesh', process.execPath, [...(o.nodeFlags ?? []), bin, 'proxy', '-c', file, '--concurrency', String(o.concurrency)]);
  const ready = async (): Promise<boolean> => {
    try {
      return (await http1Get(o.adminPort, '/ready', 1000)).status === 200;
    } catch {
      return false;
    }
  };
  return started(server, () => waitUntil(`admin /ready on port ${o.adminPort} answering 200`, ready, timeoutMs, server));
}

/**
 * One GET on `port` over HTTP/1.1 or h2c; throws unless it is answered 200 with `body`
 * (so a proxy that answers 404/503 never gets benchmarked as if it worked).
 */
export async function checkServes(port: number, protocol: 'h1' | 'h2', body: string): Promise<void> {
  const label = protocol === 'h1' ? 'HTTP/1.1' : 'h2c';
  let res: SimpleResponse;
  try {
    res = protocol === 'h1' ? await http1Get(port, '/') : await http2Get(port, '/');
  } catch (e) {
    throw new Error(`${label} GET / failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (res.status !== 200 || res.body !== body) {
    throw new Error(`${label} GET / answered ${res.status} ${JSON.stringify(res.body.slice(0, 80))}, expected 200 ${JSON.stringify(body)}`);
  }
}
