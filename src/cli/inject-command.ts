/*
 * `tsmesh inject`: kube-inject (add the sidecar to every workload of a Kubernetes YAML stream),
 * and `tsmesh inject webhook-ca` (the injection webhook's certificate, for the caBundle).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs, one, UsageError } from './args.js';
import { callControl, CliFailure, DEFAULT_CONTROL } from './control-client.js';
import { parseHostPort } from '../proxy/sidecar-bootstrap.js';
import { injectDocuments } from '../control/inject/documents.js';
import { InjectError } from '../control/inject/json.js';
import { defaultInjectOptions } from '../control/inject/options.js';
import { tsmeshVersion } from '../control/main.js';

export const INJECT_USAGE = `  tsmesh inject -f FILE|- [-o FILE] [--image IMAGE] [--xds HOST:PORT]
      Add the tsmesh sidecar (init container, proxy container, volumes, annotations) to every
      Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job and CronJob in a YAML file;
      everything else is copied unchanged. Opt out: label or annotation sidecar.tsmesh.io/inject: "false".
  tsmesh inject webhook-ca [--control URL] [--base64]
      The injection webhook's certificate (PEM, or base64 for the caBundle of the webhook configuration).
`;

interface Out { stdout(s: string): void; stderr(s: string): void }
const io: Out = { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) };

/** Resolves with the exit code: 0 done, 1 input that cannot be injected, 2 usage. */
export async function runInjectCommand(argv: readonly string[], out: Out = io): Promise<number> {
  if (argv[0] === 'webhook-ca') return webhookCa(argv.slice(1), out);
  const a = parseArgs(argv, { values: ['filename', 'output', 'image', 'xds'], booleans: [], short: { f: 'filename', o: 'output' } });
  if (a.positional.length) throw new UsageError(`inject: unexpected argument ${JSON.stringify(a.positional[0])}`);
  const file = one(a, 'filename');
  if (!file) throw new UsageError('inject: -f FILE|- is required');
  const xds = one(a, 'xds');
  if (xds !== undefined && typeof parseHostPort(xds) === 'string') throw new UsageError(`--xds: ${parseHostPort(xds) as string}`);
  const image = one(a, 'image');
  const opts = { ...defaultInjectOptions(tsmeshVersion()), ...(image ? { image } : {}), ...(xds ? { xdsAddress: xds } : {}) };
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    out.stderr(`tsmesh inject: ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}\n`);
    return 1;
  }
  let result;
  try {
    result = injectDocuments(text, opts, file === '-' ? 'stdin' : file);
  } catch (e) {
    if (!(e instanceof InjectError)) throw e;
    out.stderr(`tsmesh inject: nothing was written: ${e.message}\n`);
    return 1;
  }
  for (const w of result.warnings) out.stderr(`tsmesh inject: warning: ${w}\n`);
  for (const w of result.workloads) if (!w.injected) out.stderr(`tsmesh inject: ${w.workload}: not injected: ${w.reason}\n`);
  const target = one(a, 'output');
  if (target && target !== '-') writeFileSync(target, result.text);
  else out.stdout(result.text);
  return 0;
}

async function webhookCa(argv: readonly string[], out: Out): Promise<number> {
  const a = parseArgs(argv, { values: ['control'], booleans: ['base64'] });
  if (a.positional.length) throw new UsageError(`inject webhook-ca: unexpected argument ${JSON.stringify(a.positional[0])}`);
  const control = one(a, 'control') ?? process.env['TSMESH_CONTROL'] ?? DEFAULT_CONTROL;
  try {
    const r = await callControl<{ pem: string; caBundle: string }>(control, 'GET', '/api/v1/inject/webhook-ca');
    out.stdout(a.flags.has('base64') ? `${r.caBundle}\n` : r.pem);
    return 0;
  } catch (e) {
    if (!(e instanceof CliFailure)) throw e;
    const msg = /no such endpoint/.test(e.message) ? `${e.message} (is the control plane running with --webhook-port?)` : e.message;
    out.stderr(`tsmesh inject webhook-ca: ${msg}\n`);
    return 1;
  }
}
