import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { level, log } from './log.js';

/*
 * What bin/tsmesh.js sets up for a small sidecar, undone or finished once the proxy is ready.
 *
 * It starts the proxy with V8's optimizing and baseline compilers off, so that start-up-only
 * code (module loading, descriptor hydration, config parsing) is not compiled for speed it will
 * never need, and names in TSMESH_RESUME_V8_FLAGS what turns them back on. V8 reads these flags
 * each time it decides to tier a function up, so turning them on later gives request-path code
 * the same optimization as if they had always been on.
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
 */
export function collectStartUpGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return;
  gc();
  gc();
}

/** Called once the proxy (every thread of it) is ready and before it serves. */
export function finishStartUp(deferredV8Flags: readonly string[]): void {
  collectStartUpGarbage();
  for (const f of deferredV8Flags) setFlagsFromString(f);
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
