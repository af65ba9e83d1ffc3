/** `tsmesh token create|revoke` and `tsmesh ca rotate|roots`: the CA's HTTP API on the control plane. */
import { parseArgs, one, UsageError } from './args.js';
import { callControl, CliFailure, DEFAULT_CONTROL } from './control-client.js';

export const CA_USAGE = `  tsmesh token create --namespace NS --service-account SA [--ttl 1h] [--control URL]
      Print a join token for that workload identity: signed, expiring, and pinning the control
      plane's root, for \`tsmesh proxy --xds HOST:15012 --token-file FILE\`. Its id is on stderr.
  tsmesh token revoke JTI [--control URL]
      Refuse that token from now on (DATA_DIR/ca/revoked-tokens.txt, read live).
  tsmesh ca rotate prepare|commit|finish [--control URL]
      Root rotation: prepare trusts a new root next to the old one; commit (after every proxy has
      renewed once) signs with the new root; finish (after the old certificates expired) drops the old root.
  tsmesh ca roots [--control URL]
      The trusted root certificates (PEM) and the hash join tokens pin.
`;

export async function runCaCommand(cmd: 'token' | 'ca', argv: readonly string[], out: (s: string) => void = (s) => process.stdout.write(s), err: (s: string) => void = (s) => process.stderr.write(s)): Promise<number> {
  const a = parseArgs(argv, { values: ['control', 'namespace', 'service-account', 'ttl'], booleans: [], short: { n: 'namespace' } });
  const control = one(a, 'control') ?? process.env['TSMESH_CONTROL'] ?? DEFAULT_CONTROL;
  const [sub, arg, ...extra] = a.positional;
  try {
    if (cmd === 'token' && sub === 'create') {
      if (arg !== undefined) throw new UsageError(`token create: unexpected argument ${JSON.stringify(arg)}`);
      const namespace = one(a, 'namespace');
      const serviceAccount = one(a, 'service-account');
      if (!namespace || !serviceAccount) throw new UsageError('token create: --namespace NS and --service-account SA are required');
      const r = await callControl<{ token: string; jti: string; identity: string; expiresAt: string }>(control, 'POST', '/ca/tokens', JSON.stringify({ namespace, serviceAccount, ttl: one(a, 'ttl') ?? '1h' }));
      out(`${r.token}\n`);
      err(`token ${r.jti} for ${r.identity}, expires ${r.expiresAt}\n`);
      return 0;
    }
    if (cmd === 'token' && sub === 'revoke') {
      if (!arg || extra.length) throw new UsageError('token revoke: expected exactly one token id (JTI)');
      await callControl(control, 'POST', `/ca/tokens/${encodeURIComponent(arg)}/revoke`);
      out(`token ${arg} revoked\n`);
      return 0;
    }
    if (cmd === 'ca' && sub === 'rotate') {
      if (!arg || extra.length) throw new UsageError('ca rotate: expected prepare, commit or finish');
      const r = await callControl<{ rootHash: string; trustedRoots: string[] }>(control, 'POST', `/ca/rotate/${encodeURIComponent(arg)}`);
      out(`root rotation ${arg}: signing root ${r.rootHash}, ${r.trustedRoots.length} trusted root(s)\n`);
      return 0;
    }
    if (cmd === 'ca' && sub === 'roots') {
      const r = await callControl<{ rootHash: string; trustedRoots: string[] }>(control, 'GET', '/ca/roots');
      err(`signing root ${r.rootHash}\n`);
      out(r.trustedRoots.join(''));
      return 0;
    }
    throw new UsageError(`${cmd}: unknown subcommand ${JSON.stringify(sub ?? '')}`);
  } catch (e) {
    if (!(e instanceof CliFailure)) throw e;
    err(`${e.message}\n${e.details.map((d) => `${d}\n`).join('')}`);
    return e.exitCode;
  }
}
