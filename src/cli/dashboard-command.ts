import { spawn } from 'node:child_process';
import { parseArgs, one } from './args.js';
import { callControl, CliFailure, DEFAULT_CONTROL } from './control-client.js';

/** `tsmesh dashboard`: checks the control plane serves the dashboard, prints its URL, opens it. */
export async function runDashboardCommand(argv: readonly string[], out: (line: string) => void): Promise<number> {
  const a = parseArgs(argv, { values: ['control'], booleans: ['no-open'] });
  const control = one(a, 'control') ?? DEFAULT_CONTROL;
  let graph: { edges: unknown[] };
  try {
    graph = await callControl<{ edges: unknown[] }>(control, 'GET', 'dashboard/api/graph');
  } catch (e) {
    if (!(e instanceof CliFailure)) throw e;
    process.stderr.write(`tsmesh dashboard: ${e.message}\n`);
    return e.exitCode;
  }
  const url = new URL('dashboard', control.endsWith('/') ? control : `${control}/`).toString();
  out(`tsmesh dashboard: ${url} (${graph.edges.length} edge(s) with traffic now)`);
  if (a.flags.has('no-open')) return 0;
  const opener = process.platform === 'darwin' ? 'open' : 'xdg-open';
  if (process.platform !== 'darwin' && !process.env['DISPLAY'] && !process.env['WAYLAND_DISPLAY']) {
    out('no display here: open the address above in a browser (an SSH tunnel to the API port works: ssh -L 15014:127.0.0.1:15014 HOST)');
    return 0;
  }
  await new Promise<void>((resolve) => {
    const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => { out(`could not run ${opener}: open the address above in a browser`); resolve(); });
    child.on('spawn', () => { child.unref(); resolve(); });
  });
  return 0;
}
