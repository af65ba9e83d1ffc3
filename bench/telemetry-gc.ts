/**
 * What telemetry costs the garbage collector: the proxy of bench:tracing run with `--trace-gc`,
 * wrk on the `off` and the `on` listener in turn, and the young-generation collections
 * (scavenges) counted per 1,000 requests. Unlike CPU time, the count does not move with other
 * load on the machine: it follows what a request allocates (the proxy runs with a 1 MiB young
 * generation, so one scavenge per ~1 MiB). Also prints the scavenges' pause time per request
 * (wall clock: that one does move with the load).
 *
 *   node dist/bench/telemetry-gc.js [--rounds 3 --duration 3 --connections 32 --base-port 18880]
 *
 * A diagnostic: it prints numbers and never fails on them.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { sleep } from './lib/processes.js';
import { checkServes } from './lib/servers.js';
import { runWrk } from './lib/load.js';
import { intOption } from './lib/options.js';
import { median } from './lib/stats.js';
import { tracingBenchBootstrap } from './lib/tracing-bootstrap.js';
import { repoRoot, log } from './lib/repo-root.js';
import { DIAG_BODY, startDiagPeers } from './lib/telemetry-diag.js';

/**
 * Scavenges and their pause (ms) so far, and the full (mark-compact) collections with their
 * main-thread time (the pause plus the incremental marking steps before it), from the proxy's
 * --trace-gc lines on stdout.
 */
interface GcCount { scavenges: number; pauseMs: number; fulls: number; fullMs: number }

async function main(): Promise<void> {
  const { values } = parseArgs({ args: process.argv.slice(2), strict: true, options: { rounds: { type: 'string' }, duration: { type: 'string' }, connections: { type: 'string' }, 'base-port': { type: 'string' } } });
  const rounds = intOption('rounds', values.rounds, 3, 1, 50);
  const duration = intOption('duration', values.duration, 3, 1, 60);
  const connections = intOption('connections', values.connections, 32, 1, 1000);
  const b = intOption('base-port', values['base-port'], 18880, 1024, 65000);
  const { ports, dir, close } = await startDiagPeers(b, 'gc');
  const file = join(dir, 'bootstrap.yaml');
  writeFileSync(file, tracingBenchBootstrap(ports, join(dir, 'access.log'), undefined));
  // --trace-gc survives the proxy's re-execution (bin/tsmesh.js keeps node's flags).
  const args = ['--trace-gc', resolve(join(repoRoot(), 'bin/tsmesh.js')), 'proxy', '-c', file, '--concurrency', '1'];
  const proxy = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  process.on('exit', () => { proxy.kill('SIGKILL'); });
  const gc: GcCount = { scavenges: 0, pauseMs: 0, fulls: 0, fullMs: 0 };
  let pending = '';
  proxy.stdout.on('data', (d: Buffer) => {
    pending += d.toString('latin1');
    let i: number;
    while ((i = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, i);
      pending = pending.slice(i + 1);
      const m = /MB, ([0-9.]+) \/ /.exec(line);
      if (line.includes('Scavenge')) {
        gc.scavenges++;
        if (m) gc.pauseMs += Number(m[1]);
      } else if (line.includes('Mark-Compact')) {
        gc.fulls++;
        const steps = /\(\+ ([0-9.]+) ms in [0-9]+ steps/.exec(line);
        gc.fullMs += (m ? Number(m[1]) : 0) + (steps ? Number(steps[1]) : 0);
      }
    }
  });
  for (let i = 0; ; i++) {
    try { await checkServes(ports.on, 'h1', DIAG_BODY); await checkServes(ports.off, 'h1', DIAG_BODY); break; } catch (e) {
      if (i >= 150 || proxy.exitCode !== null) throw e;
      await sleep(200);
    }
  }
  for (const name of ['off', 'on'] as const) await runWrk(`http://127.0.0.1:${ports[name]}/`, { threads: 1, connections, durationSeconds: 2 });
  type Per = { scavenges: number[]; pauseUs: number[]; fulls: number[]; fullUs: number[] };
  const per: Record<'off' | 'on', Per> = { off: { scavenges: [], pauseUs: [], fulls: [], fullUs: [] }, on: { scavenges: [], pauseUs: [], fulls: [], fullUs: [] } };
  for (let r = 1; r <= rounds; r++) {
    for (const name of ['off', 'on'] as const) {
      const before = { ...gc };
      const run = await runWrk(`http://127.0.0.1:${ports[name]}/`, { threads: 1, connections, durationSeconds: duration });
      await sleep(200); // the last lines of the run
      const sc = ((gc.scavenges - before.scavenges) / Math.max(1, run.requests)) * 1000;
      const us = ((gc.pauseMs - before.pauseMs) / Math.max(1, run.requests)) * 1000;
      const fulls = ((gc.fulls - before.fulls) / Math.max(1, run.requests)) * 1e6;
      const fullUs = ((gc.fullMs - before.fullMs) / Math.max(1, run.requests)) * 1000;
      per[name].scavenges.push(sc);
      per[name].pauseUs.push(us);
      per[name].fulls.push(fulls);
      per[name].fullUs.push(fullUs);
      log(`round ${r} ${name.padEnd(3)} ${Math.round(run.requestsPerSecond).toLocaleString('en-US').padStart(7)} req/s  ${sc.toFixed(2)} scavenges / 1,000 requests  ${us.toFixed(2)} µs scavenge pause / request  ${fulls.toFixed(1)} full GCs / 1M requests  ${fullUs.toFixed(2)} µs of them / request`);
    }
  }
  close();
  const m = (n: 'off' | 'on', k: keyof Per): number => median(per[n][k]);
  process.stdout.write(`\nYoung-generation collections per 1,000 requests (median of ${rounds}; wrk -t1 -c${connections} -d${duration}s; tsmesh --concurrency 1, 1 MiB young generation):\n`);
  process.stdout.write(`  off ${m('off', 'scavenges').toFixed(2)}, on ${m('on', 'scavenges').toFixed(2)} (on − off ${(m('on', 'scavenges') - m('off', 'scavenges')).toFixed(2)}); scavenge pause per request: off ${m('off', 'pauseUs').toFixed(2)} µs, on ${m('on', 'pauseUs').toFixed(2)} µs\n`);
  process.stdout.write(`Full (mark-compact) collections per 1M requests: off ${m('off', 'fulls').toFixed(1)}, on ${m('on', 'fulls').toFixed(1)}; their main-thread time (pause + incremental marking steps) per request: off ${m('off', 'fullUs').toFixed(2)} µs, on ${m('on', 'fullUs').toFixed(2)} µs\n`);
}

for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) process.on(sig, () => process.exit(code));
main().then(() => process.exit(0), (e: unknown) => { log(`gc: ${e instanceof Error ? e.stack ?? e.message : String(e)}`); process.exit(1); });
