import { spawn } from 'node:child_process';
import { CHAINS, cleanupCommands, restoreText } from './rules.js';

export interface CommandResult { readonly code: number | null; readonly stdout: string; readonly stderr: string }

/** Runs a command, optionally inside the named network namespace (`ip netns exec`). */
export function runIn(netns: string | undefined, cmd: readonly string[], input?: string): Promise<CommandResult> {
  const argv = netns ? ['ip', 'netns', 'exec', netns, ...cmd] : [...cmd];
  return new Promise((resolve) => {
    const c = spawn(argv[0]!, argv.slice(1), { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    c.stdout!.on('data', (d) => (stdout += d));
    c.stderr!.on('data', (d) => (stderr += d));
    c.once('error', (e) => resolve({ code: null, stdout, stderr: stderr + e.message }));
    c.once('close', (code) => resolve({ code, stdout, stderr }));
    if (c.stdin) {
      // A command that exits without reading its input must not fail the caller (EPIPE).
      c.stdin.on('error', () => undefined);
      c.stdin.end(input);
    }
  });
}

export class CaptureError extends Error {}

/** Whether the capture chains exist in the namespace's nat table. */
export async function captureInstalled(netns?: string): Promise<boolean> {
  const r = await runIn(netns, ['iptables', '-t', 'nat', '-S']);
  if (r.code !== 0) throw new CaptureError(`iptables -t nat -S failed: ${r.stderr.trim()}`);
  return r.stdout.split('\n').some((l) => CHAINS.some((c) => l === `-N ${c}`));
}

/**
 * Installs the rules in one `iptables-restore --noflush` (all or nothing). Refuses when the
 * chains already exist: capture is installed once, and removed with removeCapture.
 */
export async function installCapture(rules: readonly string[][], netns?: string): Promise<void> {
  if (await captureInstalled(netns)) throw new CaptureError('the ISTIO_* chains already exist in the nat table; remove them first (tsmesh iptables --cleanup)');
  const r = await runIn(netns, ['iptables-restore', '--noflush'], restoreText(rules));
  if (r.code !== 0) throw new CaptureError(`iptables-restore failed: ${r.stderr.trim()}`);
}

/**
 * Removes what installCapture added and nothing else. Steps that find nothing to remove are
 * fine (a partial install, a second cleanup); returns the number of steps that removed something.
 */
export async function removeCapture(netns?: string): Promise<number> {
  let removed = 0;
  for (const c of cleanupCommands()) {
    const r = await runIn(netns, ['iptables', '-t', 'nat', ...c]);
    if (r.code === 0) removed++;
  }
  return removed;
}
