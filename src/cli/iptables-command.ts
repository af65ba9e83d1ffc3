/** `tsmesh iptables`: the istio-init equivalent (src/capture). */
import { parseArgs, one, int, UsageError } from './args.js';
import { CAPTURE_DEFAULTS, CaptureOptionsError, captureRules, cleanupCommands, commandLines, parseCidrList, parsePortList, type CaptureOptions } from '../capture/rules.js';

export const IPTABLES_USAGE = `  tsmesh iptables [--dry-run | --cleanup] [--netns NAME] [--proxy-uid 1337] [--proxy-gid 1337]
                  [--outbound-port 15001] [--inbound-port 15006]
                  [--include-outbound-cidrs '*'] [--exclude-outbound-cidrs CIDR,...]
                  [--include-inbound-ports '*'] [--exclude-inbound-ports P,...]
                  [--include-outbound-ports P,...] [--exclude-outbound-ports P,...]
      Write the nat-table rules that send this host's (or --netns's) TCP through its sidecar:
      outbound to --outbound-port, inbound to --inbound-port, except the proxy's own uid/gid
      and ports. --dry-run prints them; --cleanup removes exactly what was added. istio-iptables'
      short flags work too (-p -z -u -g -m REDIRECT -b -d -o -q -i -x -n).
`;

/** istio-iptables' one-letter flags, so an istio-init command line works unchanged. */
const ISTIO_SHORT: Readonly<Record<string, string>> = {
  p: 'outbound-port', z: 'inbound-port', u: 'proxy-uid', g: 'proxy-gid', m: 'interception-mode',
  b: 'include-inbound-ports', d: 'exclude-inbound-ports', o: 'exclude-outbound-ports', q: 'include-outbound-ports',
  i: 'include-outbound-cidrs', x: 'exclude-outbound-cidrs', n: 'dry-run',
};

const VALUES = ['interception-mode', 'netns', 'proxy-uid', 'proxy-gid', 'outbound-port', 'inbound-port', 'include-outbound-cidrs', 'exclude-outbound-cidrs', 'include-inbound-ports', 'exclude-inbound-ports', 'include-outbound-ports', 'exclude-outbound-ports'] as const;

/** The capture options from the flags (shared with `tsmesh run`). */
export function captureOptionsFrom(a: ReturnType<typeof parseArgs>): CaptureOptions {
  const d = CAPTURE_DEFAULTS;
  const list = <T>(flag: string, def: T, parse: (s: string) => T): T => { const v = one(a, flag); return v === undefined ? def : parse(v); };
  try {
    return {
      outboundPort: int(a, 'outbound-port', d.outboundPort, 1, 65535),
      inboundPort: int(a, 'inbound-port', d.inboundPort, 1, 65535),
      proxyUid: int(a, 'proxy-uid', d.proxyUid, 0, 0x7fff_ffff),
      proxyGid: int(a, 'proxy-gid', d.proxyGid, 0, 0x7fff_ffff),
      includeOutboundCidrs: list('include-outbound-cidrs', d.includeOutboundCidrs, (s) => parseCidrList('include-outbound-cidrs', s, true)),
      excludeOutboundCidrs: list('exclude-outbound-cidrs', d.excludeOutboundCidrs, (s) => parseCidrList('exclude-outbound-cidrs', s, false) as string[]),
      includeInboundPorts: list('include-inbound-ports', d.includeInboundPorts, (s) => parsePortList('include-inbound-ports', s, true)),
      excludeInboundPorts: list('exclude-inbound-ports', d.excludeInboundPorts, (s) => parsePortList('exclude-inbound-ports', s, false)),
      includeOutboundPorts: list('include-outbound-ports', d.includeOutboundPorts, (s) => parsePortList('include-outbound-ports', s, false)),
      excludeOutboundPorts: list('exclude-outbound-ports', d.excludeOutboundPorts, (s) => parsePortList('exclude-outbound-ports', s, false)),
    };
  } catch (e) {
    if (e instanceof CaptureOptionsError) throw new UsageError(e.message);
    throw e;
  }
}

export const CAPTURE_FLAGS = VALUES.filter((v) => v !== 'netns' && v !== 'interception-mode');

export async function runIptablesCommand(argv: readonly string[], out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const a = parseArgs(argv, { values: VALUES, booleans: ['dry-run', 'cleanup'], short: ISTIO_SHORT });
  if (a.positional.length) throw new UsageError(`iptables: unexpected argument ${JSON.stringify(a.positional[0])}`);
  const mode = one(a, 'interception-mode') ?? 'REDIRECT';
  if (mode !== 'REDIRECT') throw new UsageError(`--interception-mode (-m): only REDIRECT is supported, got ${JSON.stringify(mode)}`);
  const netns = one(a, 'netns');
  const dry = a.flags.has('dry-run');
  const { installCapture, removeCapture, CaptureError } = await import('../capture/iptables.js');
  if (a.flags.has('cleanup')) {
    if (dry) { out(`${commandLines(cleanupCommands()).join('\n')}\n`); return 0; }
    const n = await removeCapture(netns);
    out(n > 0 ? `removed the capture rules${netns ? ` of ${netns}` : ''}\n` : 'no capture rules to remove\n');
    return 0;
  }
  let rules: string[][];
  try {
    rules = captureRules(captureOptionsFrom(a));
  } catch (e) {
    if (e instanceof CaptureOptionsError) throw new UsageError(e.message);
    throw e;
  }
  if (dry) { out(`${commandLines(rules).join('\n')}\n`); return 0; }
  try {
    await installCapture(rules, netns);
  } catch (e) {
    if (e instanceof CaptureError) { process.stderr.write(`tsmesh iptables: ${e.message}\n`); return 1; }
    throw e;
  }
  out(`installed ${rules.length} capture rules${netns ? ` in ${netns}` : ''}\n`);
  return 0;
}
