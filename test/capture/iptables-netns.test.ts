import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { runIn } from '../../src/capture/iptables.js';
import { tsmesh } from '../support/control.js';
import { repoRoot } from '../support/proxy.js';

/*
 * `tsmesh iptables` for real, in a network namespace of this test's own: the rules the kernel
 * holds afterwards (`iptables -t nat -S`) match test/capture/golden/defaults.nat-S (regenerate
 * with UPDATE_GOLDEN=1), and --cleanup leaves the table exactly as it was, a rule of someone
 * else's included. Needs root; CI runs as root.
 */
const root = process.getuid?.() === 0;
const ns = `tsmt-ipt-${randomBytes(3).toString('hex')}`;
const golden = join(repoRoot(), 'test/capture/golden/defaults.nat-S');

before(async () => {
  if (!root) return;
  assert.equal((await runIn(undefined, ['ip', 'netns', 'add', ns])).code, 0);
});

after(async () => {
  if (root) await runIn(undefined, ['ip', 'netns', 'del', ns]);
});

const natRules = async (): Promise<string> => (await runIn(ns, ['iptables', '-t', 'nat', '-S'])).stdout;

test('tsmesh iptables installs the golden rules in a namespace; --cleanup removes exactly them', { skip: !root && 'needs root: network namespaces and iptables' }, async () => {
  // Someone else's rule, which cleanup must keep.
  assert.equal((await runIn(ns, ['iptables', '-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '--dport', '5555', '-j', 'RETURN'])).code, 0);
  const before = await natRules();

  const dry = await tsmesh(['iptables', '--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^iptables -t nat -A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN$/m);

  const r = await tsmesh(['iptables', '--netns', ns]);
  assert.equal(r.code, 0, r.stderr);
  const installed = await natRules();
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(golden, installed);
  assert.ok(existsSync(golden), 'no golden file; UPDATE_GOLDEN=1 creates it');
  assert.equal(installed, readFileSync(golden, 'utf8'));

  const again = await tsmesh(['iptables', '--netns', ns]);
  assert.equal(again.code, 1, 'a second install is refused');
  assert.match(again.stderr, /already exist.*--cleanup/);
  assert.equal(await natRules(), installed, 'and changes nothing');

  const c = await tsmesh(['iptables', '--cleanup', '--netns', ns]);
  assert.equal(c.code, 0, c.stderr);
  assert.equal(await natRules(), before);
  assert.match((await tsmesh(['iptables', '--cleanup', '--netns', ns])).stdout, /no capture rules to remove/);
});

test('istio-init\'s command line gives the same rules as the long flags', async () => {
  const istio = await tsmesh(['iptables', '-p', '15001', '-z', '15006', '-u', '1337', '-m', 'REDIRECT', '-i', '*', '-x', '10.0.0.0/8', '-b', '*', '-d', '15090,15021,15020', '-o', '5432', '-n']);
  const long = await tsmesh(['iptables', '--dry-run', '--exclude-outbound-cidrs', '10.0.0.0/8', '--exclude-inbound-ports', '15090,15021,15020', '--exclude-outbound-ports', '5432']);
  assert.equal(istio.code, 0, istio.stderr);
  assert.equal(istio.stdout, long.stdout);
  assert.match(istio.stdout, /-A ISTIO_OUTPUT -d 10\.0\.0\.0\/8 -j RETURN/);
  const tproxy = await tsmesh(['iptables', '-m', 'TPROXY', '-n']);
  assert.equal(tproxy.code, 2);
  assert.match(tproxy.stderr, /only REDIRECT/);
});

test('bad flags are a usage error naming the flag', async () => {
  const r = await tsmesh(['iptables', '--dry-run', '--exclude-outbound-cidrs', '10.0.0.0/40']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--exclude-outbound-cidrs/);
});
