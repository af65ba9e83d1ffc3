/**
 * Sampling of a process tree from /proc (Linux): resident memory and CPU time, as the kernel
 * accounts them, independent of what the load generator sees. A "tree" is a process and all
 * its descendants (nginx: master + workers); all threads of a process are included, since
 * /proc/PID/stat sums them (a Node.js process: main thread, libuv pool, GC, workers).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export interface ProcStat {
  pid: number;
  ppid: number;
  /** CPU time in clock ticks: user, system, and of waited-for children (user + system). */
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
}

/**
 * Parses one /proc/PID/stat line (proc(5)). The command name is in parentheses and may itself
 * contain spaces and parentheses, so fields are counted from the last ')'.
 */
export function parseProcStat(line: string): ProcStat {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`not a /proc/PID/stat line: ${JSON.stringify(line.slice(0, 80))}`);
  // After ')': field 3 (state) is index 0, so field N is index N - 3.
  const f = line.slice(close + 2).trim().split(/\s+/);
  const field = (n: number): number => Number(f[n - 3]);
  return { pid: Number(line.slice(0, open).trim()), ppid: field(4), utime: field(14), stime: field(15), cutime: field(16), cstime: field(17) };
}

/** VmRSS in kB from a /proc/PID/status text; 0 when absent (a zombie, a kernel thread). */
export function parseVmRssKb(status: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) : 0;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined; // exited meanwhile
  }
}

/** `root` and all its live descendants, by walking parent links of every process once. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(Number(name));
    if (!st) continue;
    const list = children.get(st.ppid);
    if (list) list.push(st.pid);
    else children.set(st.ppid, [st.pid]);
  }
  const out: number[] = [];
  const todo = [root];
  while (todo.length > 0) {
    const pid = todo.pop();
    if (pid === undefined) break;
    out.push(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** Sum of VmRSS over the tree, in bytes. */
export function treeRssBytes(root: number): number {
  let kb = 0;
  for (const pid of processTree(root)) {
    try { kb += parseVmRssKb(readFileSync(`/proc/${pid}/status`, 'utf8')); } catch { /* exited */ }
  }
  return kb * 1024;
}

/**
 * Restricts every thread of every process in the tree to `cpus` (a taskset list, "1" or
 * "1-3"); threads and children created later inherit it. Throws when taskset fails.
 */
export function pinTree(root: number, cpus: string): void {
  for (const pid of processTree(root)) {
    try {
      execFileSync('taskset', ['-a', '-c', '-p', cpus, String(pid)], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5000 });
    } catch (e) {
      if (readStat(pid)) throw new Error(`taskset -a -c -p ${cpus} ${pid} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

let ticksPerSecond: number | undefined;

/** USER_HZ, the unit of the times in /proc/PID/stat (almost always 100). */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
      ticksPerSecond = Number.isFinite(n) && n > 0 ? n : 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/**
 * CPU seconds (user + system) used so far by the tree: every live member's own time plus the
 * time of children they have already reaped, so a worker that exits between two samples still
 * counts. Only differences of two samples are meaningful.
 */
export function treeCpuSeconds(root: number): number {
  let ticks = 0;
  for (const pid of processTree(root)) {
    const st = readStat(pid);
    if (st) ticks += st.utime + st.stime + st.cutime + st.cstime;
  }
  return ticks / clockTicksPerSecond();
}

export interface SystemCpu {
  /** Seconds all CPUs spent running processes (user + nice + system), summed over CPUs. */
  busy: number;
  /** Seconds the hypervisor ran something else while this machine wanted a CPU. */
  steal: number;
}

/** Parses the aggregate "cpu" line of /proc/stat (times in USER_HZ ticks). */
export function parseProcStatCpu(text: string, ticksPerSecond: number): SystemCpu {
  const m = /^cpu\s+(.*)$/m.exec(text);
  if (!m?.[1]) throw new Error('/proc/stat has no aggregate cpu line');
  const [user = 0, nice = 0, system = 0, , , , , steal = 0] = m[1].trim().split(/\s+/).map(Number);
  return { busy: (user + nice + system) / ticksPerSecond, steal: steal / ticksPerSecond };
}

/** The whole machine's CPU time so far (see SystemCpu); only differences are meaningful. */
export function systemCpu(): SystemCpu {
  return parseProcStatCpu(readFileSync('/proc/stat', 'utf8'), clockTicksPerSecond());
}

/**
 * Opens a measuring window; the returned function closes it and gives the CPU used meanwhile
 * by everything outside `ownRoot`'s process tree (other processes' user + system time, plus
 * hypervisor steal), in % of one CPU. Children that `ownRoot` has reaped count as its own.
 */
export function otherCpuWindow(ownRoot: number): () => number {
  const wall0 = performance.now();
  const sys0 = systemCpu();
  const own0 = treeCpuSeconds(ownRoot);
  return () => {
    const own1 = treeCpuSeconds(ownRoot);
    const sys1 = systemCpu();
    const seconds = (performance.now() - wall0) / 1000;
    const other = Math.max(0, sys1.busy - sys0.busy - (own1 - own0)) + (sys1.steal - sys0.steal);
    return seconds > 0 ? (other / seconds) * 100 : 0;
  };
}
