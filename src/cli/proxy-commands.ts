/** `tsmesh proxy-status` and `tsmesh proxy-config KIND PROXY`: HTTP to the control plane, tables out. */
import type { JsonValue } from '@bufbuild/protobuf';
import { parseArgs, one, UsageError } from './args.js';
import { callControl, CliFailure, DEFAULT_CONTROL } from './control-client.js';
import { CONFIG_TYPE, findProxy, renderProxyConfig, renderProxyStatus, type ConfigKind, type SyncEntry } from './proxy-status.js';

export const PROXY_USAGE = `  tsmesh proxy-status [--control URL]
      Every connected proxy: CDS/LDS/EDS/RDS as SYNCED / STALE / NACK / NOT SENT, last push, NACK reasons.
  tsmesh proxy-config listeners|routes|clusters|endpoints PROXY [-o json] [--control URL]
      What the control plane has sent to PROXY (node id, NAME.NAMESPACE or NAME).
`;

export async function runProxyCommand(cmd: 'proxy-status' | 'proxy-config', argv: readonly string[], out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const a = parseArgs(argv, { values: ['control', 'output'], booleans: [], short: { o: 'output' } });
  const control = one(a, 'control') ?? process.env['TSMESH_CONTROL'] ?? DEFAULT_CONTROL;
  try {
    const status = await callControl<SyncEntry[]>(control, 'GET', '/debug/syncz');
    if (cmd === 'proxy-status') {
      if (a.positional.length) throw new UsageError(`proxy-status: unexpected argument ${JSON.stringify(a.positional[0])}`);
      out(renderProxyStatus(status));
      return 0;
    }
    const [kind, ref, ...extra] = a.positional;
    if (!kind || !(kind in CONFIG_TYPE)) throw new UsageError(`proxy-config: expected one of ${Object.keys(CONFIG_TYPE).join(', ')}, got ${JSON.stringify(kind ?? '')}`);
    if (!ref || extra.length) throw new UsageError('proxy-config: expected exactly one PROXY');
    const found = findProxy(status, ref);
    if (typeof found === 'string') throw new CliFailure(found);
    const dump = await callControl<Record<ConfigKind, JsonValue[]>>(control, 'GET', `/debug/config_dump?proxy=${encodeURIComponent(found.id)}`);
    const resources = dump[kind as ConfigKind] ?? [];
    const format = one(a, 'output');
    if (format === 'json') out(`${JSON.stringify(resources, null, 2)}\n`);
    else if (format === undefined) out(renderProxyConfig(kind as ConfigKind, resources));
    else throw new UsageError(`-o: expected json, got ${JSON.stringify(format)}`);
    return 0;
  } catch (e) {
    if (!(e instanceof CliFailure)) throw e;
    process.stderr.write(`${e.message}\n${e.details.map((d) => `${d}\n`).join('')}`);
    return e.exitCode;
  }
}
