import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from './net.js';
import { repoRoot } from './proxy.js';

export interface RunningControl {
  readonly url: string;
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then the exit code (SIGKILL after 10 s if it does not stop). */
  stop(): Promise<number | null>;
}

/** Starts `tsmesh control` as a child process on a free HTTP port; resolves once /healthz answers. */
export async function startControlProcess(args: { dataDir: string; configDir?: string; extra?: string[] }): Promise<RunningControl> {
  const port = await freePort();
  const argv = [join(repoRoot(), 'bin/tsmesh.js'), 'control', '--data-dir', args.dataDir, '--http-port', String(port), ...(args.configDir ? ['--config-dir', args.configDir] : []), ...(args.extra?.includes('--xds-tls-port') ? [] : ['--xds-tls-port', '0']),
    // Free ports, not Istio's fixed 15010: tests (and other checkouts' tests) run side by side.
    ...(args.extra?.includes('--xds-port') || args.extra?.includes('--no-xds-plaintext') ? [] : ['--xds-port', '0']), ...(args.extra ?? [])];
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`tsmesh control exited with ${child.exitCode}: ${err}`);
    try {
      // The banner (stdout) is printed once start-up is complete, after the API answers.
      if ((await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) })).ok && /^ {2}api: /m.test(out)) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`tsmesh control not ready: ${err}`); }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url, child,
    stdout: () => out,
    stderr: () => err,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

/** Runs `tsmesh ARGS` with optional stdin; resolves with exit code and output. */
export function tsmesh(args: string[], stdin?: string, timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(repoRoot(), 'bin/tsmesh.js'), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  child.stdin!.end(stdin ?? '');
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => { clearTimeout(t); resolve({ code, stdout: out, stderr: err }); });
  });
}
