import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../support/proxy.js';
import { freePort } from '../support/net.js';

// `tsmesh control`'s CA and TLS-port flags, and the CA commands' usage, through the real executable.
test('CA flags and commands: usage errors name the problem and exit 2', async () => {
  const cases: [string[], RegExp][] = [
    [['control', '--no-xds-plaintext', '--xds-tls-port', 'off'], /--no-xds-plaintext with --xds-tls-port off leaves no xDS port/],
    [['control', '--ca-dir', '/tmp', '--xds-tls-port', 'off'], /--ca-dir needs the TLS port/],
    [['control', '--xds-tls-port', '99999'], /--xds-tls-port: expected an integer 0-65535/],
    [['control', '--trust-domain', 'Not_A_Domain'], /--trust-domain: trust domain "Not_A_Domain" is not a DNS name/],
    [['control', '--workload-cert-ttl', '10'], /--workload-cert-ttl: expected a duration of at least 1s/],
    [['token', 'create', '--namespace', 'a'], /token create: --namespace NS and --service-account SA are required/],
    [['token', 'revoke'], /token revoke: expected exactly one token id/],
    [['token', 'list'], /token: unknown subcommand "list"/],
    [['ca', 'rotate'], /ca rotate: expected prepare, commit or finish/],
  ];
  for (const [args, want] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, want, args.join(' '));
  }
  const closed = await freePort();
  const down = await runCli(['token', 'create', '--namespace', 'a', '--service-account', 'b', '--control', `http://127.0.0.1:${closed}`]);
  assert.equal(down.code, 1);
  assert.match(down.stderr, new RegExp(`cannot reach the control plane at http://127\\.0\\.0\\.1:${closed}: ECONNREFUSED`));
});
