/**
 * What traffic capture costs: HTTP/1.1 keep-alive requests from one `tsmesh run` host to another
 * through iptables and both sidecars (the client's outbound, the server's inbound), against the
 * same requests sent directly (the load generator as the proxy uid, which capture leaves alone,
 * to a port the server does not declare, which is not captured inbound). Rounds alternate.
 * Needs root (network namespaces). Prints the numbers and writes the `capture` section of
 * BENCHMARKS.md; never fails on them.
 *
 *   npm run bench:capture [-- --rounds 3 --duration 5 --connections 16 --no-write]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { parseWrk, type WrkResult } from './lib/wrk.js';
import { median } from './lib/stats.js';
import { setSection } from './lib/sections.js';
import { runIn } from '../src/capture/iptables.js';
import { repoRoot } from '../src/capture/run.js';
import { log } from './lib/repo-root.js';

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return p;
}

async function until(probe: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  for (const deadline = Date.now() + ms; ;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({ args: process.argv.slice(2), strict: true, options: { rounds: { type: 'string' }, duration: { type: 'string' }, connections: { type: 'string' }, 'no-write': { type: 'boolean' } } });
  const rounds = Number(values.rounds ?? 3), duration = Number(values.duration ?? 5), connections = Number(values.connections ?? 16);
  if (process.getuid?.() !== 0) { log('bench:capture needs root (network namespaces, iptables)'); return 1; }
  const dir = mkdtempSync(join(tmpdir(), 'tsmesh-bench-capture-'));
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'server.mjs'), `import http from 'node:http';
const h = (req, res) => res.end('hello world\\n');
http.createServer(h).listen(9080, '0.0.0.0'); http.createServer(h).listen(9081, '0.0.0.0');`);
  const cli = join(repoRoot(), 'bin/tsmesh.js');
  const children: ChildProcess[] = [];
  const start = (args: string[]): ChildProcess => {
    const c = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    c.stderr!.resume();
    children.push(c);
    return c;
  };
  const xds = await freePort(), api = await freePort();
  const control = `http://127.0.0.1:${api}`;
  const common = ['--control', control, '--xds', `127.0.0.1:${xds}`, '--state-dir', join(dir, 'state'), '--bridge', 'tsmbench', '--gateway', '198.18.250.1/24'];
  try {
    start(['control', '--xds-port', String(xds), '--http-port', String(api), '--data-dir', join(dir, 'data'), '--log-level', 'error']);
    await until(async () => { try { return (await fetch(`${control}/healthz`)).ok; } catch { return false; } }, 30_000, 'the control plane');
    start(['run', ...common, '--name', 'upstream', '--port', '9080', '--', process.execPath, join(dir, 'server.mjs')]);
    start(['run', ...common, '--name', 'loadgen', '--port', '9090', '--', 'sleep', '3600']);
    const registry = async (): Promise<{ endpoints: Record<string, { address: string }[]> }> => (await fetch(`${control}/debug/registry`)).json() as Promise<{ endpoints: Record<string, { address: string }[]> }>;
    await until(async () => ((await registry()).endpoints['upstream.default.svc.cluster.local:9080']?.length ?? 0) > 0 && ((await registry()).endpoints['loadgen.default.svc.cluster.local:9090']?.length ?? 0) > 0, 60_000, 'both workloads');
    const upstreamIp = (await registry()).endpoints['upstream.default.svc.cluster.local:9080']![0]!.address;
    const ns = /tsmesh-loadgen-\w+/.exec((await runIn(undefined, ['ip', 'netns', 'list'])).stdout)![0];
    await until(async () => readFileSync(`/etc/netns/${ns}/hosts`, 'utf8').includes(' upstream'), 10_000, 'the hosts file');
    const wrk = async (url: string, asProxyUid: boolean): Promise<WrkResult> => {
      const cmd = ['wrk', '-t1', `-c${connections}`, `-d${duration}s`, '--latency', url];
      const r = await runIn(ns, asProxyUid ? ['setpriv', '--reuid=1337', '--regid=1337', '--clear-groups', '--', ...cmd] : cmd);
      return parseWrk(r.stdout);
    };
    const modes = {
      direct: () => wrk(`http://${upstreamIp}:9081/`, true),
      captured: () => wrk('http://upstream:9080/', false),
    };
    await modes.captured();
    const results: Record<string, WrkResult[]> = { direct: [], captured: [] };
    for (let i = 0; i < rounds; i++) {
      for (const [name, fn] of Object.entries(modes)) {
        const r = await fn();
        results[name]!.push(r);
        log(`round ${i + 1} ${name}: ${r.requestsPerSecond.toFixed(0)} req/s, p50 ${r.latencyMs.get(50)} ms, p99 ${r.latencyMs.get(99)} ms, errors ${r.socketErrors.connect + r.socketErrors.read + r.socketErrors.write + r.socketErrors.timeout + r.non2xx3xx}`);
      }
    }
    const row = (name: string): string => {
      const rs = results[name]!;
      return `| ${name} | ${median(rs.map((r) => r.requestsPerSecond)).toFixed(0)} | ${median(rs.map((r) => r.latencyMs.get(50)!)).toFixed(2)} | ${median(rs.map((r) => r.latencyMs.get(99)!)).toFixed(2)} |`;
    };
    const body = `## Traffic capture: through iptables and both sidecars vs direct (\`npm run bench:capture\`)

Run ${new Date().toISOString()}, Node ${process.version}, 2 CPUs shared by wrk, both sidecars (\`--concurrency 1\`) and the upstream; two \`tsmesh run\` hosts on one bridge. \`captured\`: wrk (root, captured) to \`http://upstream:9080/\` (VIP → client sidecar → server sidecar → app); \`direct\`: wrk as uid 1337 (not captured) to the upstream's address on an undeclared port. wrk -t1 -c${connections} -d${duration}s, ${rounds} alternating rounds, medians.

| path | req/s | p50 ms | p99 ms |
| --- | --- | --- | --- |
${row('direct')}
${row('captured')}

command: npm run bench:capture -- --rounds ${rounds} --duration ${duration} --connections ${connections}`;
    process.stdout.write(`${body}\n`);
    if (values['no-write'] !== true) {
      const file = join(repoRoot(), 'BENCHMARKS.md');
      writeFileSync(file, setSection(readFileSync(file, 'utf8'), 'capture', body));
    }
    return 0;
  } finally {
    for (const c of children.slice(1)) c.kill('SIGTERM');
    await Promise.all(children.slice(1).map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    children[0]?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then((code) => process.exit(code), (e: Error) => { log(`bench:capture: ${e.message}`); process.exit(1); });
