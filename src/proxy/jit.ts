import { setFlagsFromString } from 'node:v8';

/*
 * bin/tsmesh.js starts the proxy with V8's optimizing and baseline compilers off, so that
 * start-up-only code (module loading, descriptor hydration, config parsing) is not compiled
 * for speed it will never need, and names in TSMESH_RESUME_V8_FLAGS what turns them back on.
 * V8 reads these flags each time it decides to tier a function up, so turning them on later
 * gives request-path code the same optimization as if they had always been on.
 */
const ENV = 'TSMESH_RESUME_V8_FLAGS';
const ALLOWED = new Set(['--opt', '--sparkplug']);

/** The flags to turn on once started, taken once (workers and child processes do not see them). */
export function takeDeferredV8Flags(): string[] {
  const v = process.env[ENV];
  delete process.env[ENV];
  return (v ?? '').split(' ').filter((f) => ALLOWED.has(f));
}

export function resumeV8Flags(flags: readonly string[]): void {
  for (const f of flags) setFlagsFromString(f);
}
