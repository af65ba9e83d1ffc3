import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { level, log } from './log.js';

/*
 * What bin/tsmesh.js sets up for a small sidecar, undone or finished once the proxy is ready.
 *
 * It starts the proxy with V8's optimizing and baseline compilers off, so that start-up-only
 * code (module loading, descriptor hydration, config parsing) is not compiled for speed it will
 * never need, and names in TSMESH_RESUME_V8_FLAGS what turns them back on once the proxy is
 * busy (resumeCompilersWhenBusy). V8 reads these flags each time it decides to tier a function
 * up, so turning them on later gives request-path code the same optimization as if they had
 * always been on.
 *
 * It also passes --expose-gc: start-up leaves garbage (config text, descriptor protos, module
 * loading) that a proxy with little traffic would otherwise carry until some later major GC.
 */
const ENV = 'TSMESH_RESUME_V8_FLAGS';
const ALLOWED = new Set(['--opt', '--sparkplug']);

/** The flags to turn on once started, taken once (workers and child processes do not see them). */
export function takeDeferredV8Flags(): string[] {
  const v = process.env[ENV];
  delete process.env[ENV];
  return (v ?? '').split(' ').filter((f) => ALLOWED.has(f));
}

/**
 * Frees start-up garbage when V8 lets us. Twice: the first collection leaves pages sparse
 * that the second can compact and give back (measured: ~0.5 MiB more than one).
 *
 * The first also drops the bytecode of every function not running (V8's --stress-flush-code,
 * on for that one collection): start-up code (module bodies, config decoding and compiling,
 * descriptor hydration) runs once, and V8 would keep its bytecode until it has aged through
 * several major GCs, which an idle proxy never does (and gc() does not age bytecode). A
 * function the request path needs is compiled again from its source on its first call. About
 * 0.6 MiB of bytecode, 0.2 MiB of idle RSS.
 */
export function collectStartUpGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return;
  setFlagsFromString('--stress-flush-code');
  try {
    gc();
  } finally {
    setFlagsFromString('--no-stress-flush-code');
  }
  gc();
}

/**
 * CPU time the process spends after start-up before V8's compilers come back: a proxy that
 * serves traffic passes it within a second; one that only answers the odd health check or
 * scrape takes a long while. Until then nothing is compiled by TurboFan, whose code (~4 MiB of
 * the node binary) and zones would otherwise be paged in by the first function start-up made
 * hot and a request happens to call again (Node's builtin loader, its argument validators),
 * not by request-path code.
 */
export const JIT_AFTER_CPU_US = 250_000;
const JIT_CHECK_MS = 1000;

/** What resumeCompilersWhenBusy reads and does (the process's own, or fakes in tests). */
export interface CompilerSwitch {
  /** CPU time (user + system) of the whole process so far, in microseconds. */
  cpuUs(): number;
  /** Calls `fn` every `ms` until the returned function is called; must not keep the process alive. */
  every(fn: () => void, ms: number): () => void;
  setFlag(flag: string): void;
}

const processSwitch: CompilerSwitch = {
  cpuUs: () => { const u = process.cpuUsage(); return u.user + u.system; },
  every: (fn, ms) => { const t = setInterval(fn, ms).unref(); return () => clearInterval(t); },
  setFlag: (f) => setFlagsFromString(f),
};

/**
 * Turns `flags` on once the process has used JIT_AFTER_CPU_US of CPU from now (every thread:
 * workers' load counts), checked once a second.
 */
export function resumeCompilersWhenBusy(flags: readonly string[], sw: CompilerSwitch = processSwitch): void {
  if (flags.length === 0) return;
  const from = sw.cpuUs();
  const stop = sw.every(() => {
    if (sw.cpuUs() - from < JIT_AFTER_CPU_US) return;
    stop();
    for (const f of flags) sw.setFlag(f);
  }, JIT_CHECK_MS);
}

/** Called once the proxy (every thread of it) is ready and before it serves. */
export function finishStartUp(deferredV8Flags: readonly string[]): void {
  collectStartUpGarbage();
  resumeCompilersWhenBusy(deferredV8Flags);
}

/**
 * At --log-level debug: the process's resident memory at a start-up phase (VmRSS and its
 * anonymous and file-backed parts, from /proc) and this thread's V8 heap, so what each phase
 * costs can be read from one run.
 */
export function traceStartUpMemory(phase: string): void {
  if (level() !== 'debug' && level() !== 'trace') return;
  let status = '';
  try { status = readFileSync('/proc/self/status', 'utf8'); } catch { /* not Linux */ }
  const mib = (field: string): string => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return m ? (Number(m[1]) / 1024).toFixed(1) : '?';
  };
  const heap = (process.memoryUsage().heapUsed / 1048576).toFixed(1);
  log.debug(`start-up memory, ${phase}: rss ${mib('VmRSS')} MiB (anon ${mib('RssAnon')}, file ${mib('RssFile')}), V8 heap used ${heap} MiB`);
}
