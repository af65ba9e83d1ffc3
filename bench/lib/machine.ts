/** What the benchmark ran on: CPUs, memory, kernel, and the versions of every tool. */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { runTool } from './processes.js';
import { resolveCommand } from './servers.js';

async function firstLine(file: string, args: string[], pattern: RegExp): Promise<string> {
  const r = await runTool(file, args, 5000);
  const text = `${r.stdout}\n${r.stderr}`;
  const m = pattern.exec(text);
  return m?.[0]?.trim() ?? (r.exit.error ? `not available (${r.exit.error})` : 'unknown');
}

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return m?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  } catch {
    return os.cpus()[0]?.model ?? 'unknown';
  }
}

/** Label/value pairs for the report's "Machine" section. */
export async function describeMachine(): Promise<Array<readonly [string, string]>> {
  const [nginx, haproxy, wrk, h2load] = await Promise.all([
    firstLine(resolveCommand('nginx'), ['-v'], /nginx\/\S+/),
    firstLine(resolveCommand('haproxy'), ['-v'], /HAProxy version \S+/),
    firstLine('wrk', ['-v'], /wrk \S+/),
    firstLine('h2load', ['--version'], /h2load \S+/),
  ]);
  return [
    ['CPUs (nproc)', String(os.availableParallelism())],
    ['CPU model', cpuModel()],
    ['memory', `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`],
    ['kernel', `${os.type()} ${os.release()}`],
    ['node', process.version],
    ['nginx', nginx],
    ['haproxy', haproxy],
    ['wrk', wrk],
    ['h2load', h2load],
    // Other work on the machine skews every number; this shows how busy it was at the start.
    ['load average at start (1/5/15 min)', os.loadavg().map((x) => x.toFixed(2)).join(' / ')],
  ];
}
