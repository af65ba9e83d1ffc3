import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot, writeTemp } from './proxy.js';

/**
 * Whether this process may create network namespaces (root with `unshare` and `nsenter`). Tests
 * that need a namespace of their own say so when it is missing instead of passing quietly.
 */
export async function canUseNetns(): Promise<boolean> {
  if (process.getuid?.() !== 0) return false;
  return new Promise((resolve) => execFile('unshare', ['--net', 'true'], (err) => resolve(!err)));
}

export interface NetnsProxy {
  /** Runs a command inside the proxy's network namespace; resolves with its exit code and output. */
  exec(cmd: string[], timeoutMs?: number): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** GET through curl inside the namespace: the status (0 when the connection failed) and body. */
  get(url: string): Promise<{ status: number; body: string; curlExit: number | null }>;
  stderr(): string;
  stop(): Promise<void>;
}

/**
 * Runs `tsmesh proxy -c` in a network namespace of its own with only loopback up, so it may bind
 * 0.0.0.0 and serve any of 127.0.0.0/8 without touching the host's network. Waits until
 * /ready on 127.0.0.1:ADMIN_PORT answers 200; the namespace goes away with the process.
 */
export async function startProxyInNetns(bootstrapYaml: string, adminPort: number, concurrency = 1): Promise<NetnsProxy> {
  const file = writeTemp('bootstrap.yaml', bootstrapYaml);
  const cli = join(repoRoot(), 'bin/tsmesh.js');
  // unshare execs sh, which execs node: one pid, in the new namespace, for nsenter to join.
  const child: ChildProcess = spawn('unshare', ['--net', 'sh', '-c', `ip link set lo up && exec "${process.execPath}" "${cli}" proxy -c "${file}" --concurrency ${concurrency}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stdout!.resume();
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const exec = (cmd: string[], timeoutMs = 15_000): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const c = spawn('nsenter', [`--net=/proc/${child.pid}/ns/net`, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '', e = '';
      c.stdout!.on('data', (d) => (out += d));
      c.stderr!.on('data', (d) => (e += d));
      const t = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
      c.once('exit', (code) => { clearTimeout(t); resolve({ code, stdout: out, stderr: e }); });
    });
  const get = async (url: string): Promise<{ status: number; body: string; curlExit: number | null }> => {
    const r = await exec(['curl', '-sS', '--max-time', '10', '-w', '\n%{http_code}', url]);
    const nl = r.stdout.lastIndexOf('\n');
    return { status: Number(r.stdout.slice(nl + 1)) || 0, body: r.stdout.slice(0, Math.max(nl, 0)), curlExit: r.code };
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`proxy exited with ${child.exitCode}: ${err}`);
    if ((await get(`http://127.0.0.1:${adminPort}/ready`)).status === 200) break;
    if (Date.now() > deadline) { await stop(); throw new Error(`proxy not ready: ${err}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { exec, get, stderr: () => err, stop };
}
