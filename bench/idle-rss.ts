/**
 * Idle memory of `tsmesh proxy`, measured the way bench/proxy-compare.ts measures it (VmRSS
 * summed over the process tree, after admin /ready, one HTTP/1.1 and one h2c request, and 1 s
 * of quiet), but alone and repeated, so a change to start-up can be judged in a minute.
 *
 *   npx tsx bench/idle-rss.ts [--runs N] [--concurrency N] [--bootstrap FILE] [--base-port P]
 *                             [--tsmesh-bin FILE] [--node-flags="--flag ..."]
 *
 * --bootstrap: a template with ${LISTEN_PORT}, ${ADMIN_PORT}, ${UPSTREAM_PORT}, like
 * bench/tsmesh-bootstrap.yaml (the default). The upstream is a small Node server in this
 * process (not part of the measured tree; its cluster speaks HTTP/1.1). Prints every run and
 * the median, in MiB, and for the main process RssAnon, RssFile (pages of the node binary and
 * libraries: shared with every other process that maps them, but counted in VmRSS) and VmHWM.
 */
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startTsmesh, checkServes } from './lib/servers.js';
import { treeRssBytes, processTree } from './lib/proc.js';
import { renderTemplate } from './lib/configs.js';
import { startServer, waitUntil, http1Get, type ServerProcess } from './lib/processes.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BODY = 'hello world\n';

const { values } = parseArgs({
  options: {
    runs: { type: 'string' }, concurrency: { type: 'string' }, bootstrap: { type: 'string' },
    'base-port': { type: 'string' }, 'tsmesh-bin': { type: 'string' }, 'node-flags': { type: 'string' },
  },
});
const runs = Number(values.runs ?? 5);
const concurrency = Number(values.concurrency ?? 1);
const basePort = Number(values['base-port'] ?? 18180);
const template = readFileSync(resolve(values.bootstrap ?? join(root, 'bench/tsmesh-bootstrap.yaml')), 'utf8');
const bin = resolve(values['tsmesh-bin'] ?? join(root, 'bin/tsmesh.js'));
// Node/V8 flags to try instead of the CLI's own: the proxy then runs with TSMESH_NO_REEXEC=1.
const nodeFlags = values['node-flags']?.split(/\s+/).filter((f) => f !== '');
const ports = { upstream: basePort, listen: basePort + 6, admin: basePort + 7 };

/** A `/proc/PID/status` field in bytes (VmHWM: peak RSS; RssAnon/RssFile: the two parts of VmRSS). */
function statusBytes(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

async function startWithFlags(flags: readonly string[], bootstrap: string, dir: string): Promise<ServerProcess> {
  const file = join(dir, 'tsmesh-bootstrap.yaml');
  writeFileSync(file, bootstrap);
  const server = startServer('tsmesh', process.execPath, [...flags, bin, 'proxy', '-c', file, '--concurrency', String(concurrency)], { ...process.env, TSMESH_NO_REEXEC: '1' });
  await waitUntil('admin /ready', async () => { try { return (await http1Get(ports.admin, '/ready', 1000)).status === 200; } catch { return false; } }, 30_000, server);
  return server;
}

const mib = (bytes: number): string => (bytes / 1048576).toFixed(1);

async function main(): Promise<void> {
  const upstream = createServer((_, res) => { res.setHeader('content-type', 'text/plain'); res.end(BODY); });
  await new Promise<void>((r) => upstream.listen(ports.upstream, '127.0.0.1', r));
  const dir = mkdtempSync(join(tmpdir(), 'tsmesh-idle-rss-'));
  const samples: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const bootstrap = renderTemplate(template, { LISTEN_PORT: ports.listen, ADMIN_PORT: ports.admin, UPSTREAM_PORT: ports.upstream });
      const t0 = Date.now();
      const server = nodeFlags === undefined
        ? await startTsmesh({ bin, dir, bootstrap, adminPort: ports.admin, concurrency })
        : await startWithFlags(nodeFlags, bootstrap, dir);
      const readyMs = Date.now() - t0;
      try {
        await checkServes(ports.listen, 'h1', BODY);
        await checkServes(ports.listen, 'h2', BODY);
        await new Promise((r) => setTimeout(r, 1000));
        const rss = treeRssBytes(server.pid);
        samples.push(rss);
        process.stdout.write(`run ${i + 1}: RSS ${mib(rss)} MiB (processes ${processTree(server.pid).length}, main: anon ${mib(statusBytes(server.pid, 'RssAnon'))}, file ${mib(statusBytes(server.pid, 'RssFile'))}, peak ${mib(statusBytes(server.pid, 'VmHWM'))} MiB, ready after ${readyMs} ms)\n`);
      } finally {
        await server.stop();
      }
    }
  } finally {
    upstream.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const sorted = [...samples].sort((a, b) => a - b);
  process.stdout.write(`median idle RSS, --concurrency ${concurrency}: ${mib(sorted[Math.floor(sorted.length / 2)]!)} MiB (min ${mib(sorted[0]!)}, max ${mib(sorted[sorted.length - 1]!)}, ${runs} runs)\n`);
}

await main();
