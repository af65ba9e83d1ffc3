import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, httpUpstream, request } from '../../support/net.js';
import { httpBootstrap, repoRoot, writeTemp } from '../../support/proxy.js';

// bin/tsmesh.js starts the proxy with V8's optimizing and baseline compilers off and names in
// TSMESH_RESUME_V8_FLAGS what turns them back on (src/proxy/start-up.ts): an idle proxy must not
// page in TurboFan for code start-up made hot, a busy one must get it back. The proxy runs here
// as bin/tsmesh.js re-executes it (test/proxy/e2e/startup.test.ts checks the flags), with
// --trace-opt, whose lines (on stdout, written out at exit) say what TurboFan compiled.

const V8_FLAGS = ['--max-semi-space-size=1', '--no-opt', '--no-sparkplug', '--expose-gc', '--trace-opt'];

/** The proxy's CPU time (user + system) in clock ticks, from /proc. */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** Runs the proxy, lets `work` use it, stops it; resolves with what --trace-opt printed. */
async function traceOpt(work: (port: number, pid: number) => Promise<void>): Promise<string> {
  const upstream = await httpUpstream();
  const adminPort = await freePort();
  const port = await freePort();
  const file = writeTemp('bootstrap.yaml', httpBootstrap({ listenPort: port, upstreamPort: upstream.port }).replaceAll('ADMIN_PORT', String(adminPort)));
  const child = spawn(process.execPath, [...V8_FLAGS, join(repoRoot(), 'bin/tsmesh.js'), 'proxy', '-c', file, '--concurrency', '1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TSMESH_NO_REEXEC: '1', TSMESH_RESUME_V8_FLAGS: '--opt --sparkplug' },
  });
  let out = '', err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  try {
    const deadline = Date.now() + 30_000;
    while (!err.includes(`admin on 127.0.0.1:${adminPort}`)) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`proxy did not start: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await work(port, child.pid!);
  } finally {
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
    await upstream.close();
  }
  return out;
}

test('an idle proxy leaves V8 optimizing compiler off', async () => {
  const out = await traceOpt(async (port) => {
    for (let i = 0; i < 3; i++) assert.equal((await request(port, { path: '/' })).status, 200);
    // Three of the once-a-second checks see an idle process.
    await new Promise((r) => setTimeout(r, 3500));
  });
  assert.doesNotMatch(out, /completed optimizing/);
});

test('a busy proxy gets V8 optimizing compiler back', async () => {
  const out = await traceOpt(async (port, pid) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    try {
      const from = cpuTicks(pid);
      const deadline = Date.now() + 90_000;
      // Until the proxy has used well over its budget (JIT_AFTER_CPU_US, 0.25 s) of CPU ...
      while (cpuTicks(pid) - from < 150) {
        if (Date.now() > deadline) throw new Error('the proxy never used 1.5 s of CPU');
        await Promise.all(Array.from({ length: 50 }, () => request(port, { path: '/', agent })));
      }
      // ... and a check has seen it, while requests keep functions hot.
      const until = Date.now() + 3000;
      while (Date.now() < until) await Promise.all(Array.from({ length: 20 }, () => request(port, { path: '/', agent })));
    } finally {
      agent.destroy();
    }
  });
  assert.match(out, /completed optimizing/);
});
