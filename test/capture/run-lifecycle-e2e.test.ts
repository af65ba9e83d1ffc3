import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../support/net.js';
import { startRunEnv, until, type RunEnv } from '../support/run-hosts.js';
import { runIn } from '../../src/capture/iptables.js';

/*
 * `tsmesh run` as root: a sidecar that never becomes ready keeps its workload out of traffic and
 * its app from starting; a run killed with SIGKILL leaves a stale host that the next run removes.
 */
const root = process.getuid?.() === 0;
let env: RunEnv;

before(async () => { env = await startRunEnv(); });
after(async () => { await env?.close(); });

test('a workload whose sidecar never becomes ready gets no traffic, and its app never starts', { skip: !root && 'needs root (namespaces)' }, async () => {
  const marker = join(env.dir, 'started');
  // Its xDS addresses (plaintext and TLS) answer nothing: the sidecar stays not ready.
  const dead = `127.0.0.1:${await freePort()}`;
  const r = env.run(['--name', 'ratings', '--port', '9080', '--xds', dead, '--xds-tls', dead], ['touch', marker]);
  await until(async () => /mode capture/.test(r.output()), 30_000, r.output);
  await new Promise((res) => setTimeout(res, 2000));
  assert.equal(await env.registered('ratings.default.svc.cluster.local', 9080), false, 'not an endpoint while its sidecar is not ready');
  assert.equal(existsSync(marker), false, 'the app waits for its sidecar');
  r.child.kill('SIGTERM');
  await r.exitWithin(60_000);
  assert.equal(existsSync(marker), false);
  assert.doesNotMatch(await env.hostsTable(), /ratings/);
});

test('a run killed with SIGKILL leaves a stale host that the next run removes, with what ran in it', { skip: !root && 'needs root (namespaces)' }, async () => {
  const r = env.run(['--name', 'crashy', '--port', '9080'], env.app('server.mjs', '9080', 'crashy'));
  await until(() => env.registered('crashy.default.svc.cluster.local', 9080), 60_000, r.output);
  const ns = /tsmesh-crashy-\w+/.exec(await env.hostsTable())![0];
  r.child.kill('SIGKILL');
  await r.exitWithin(60_000);
  await until(async () => /tsmesh-crashy-\w+ .* stale /.test(await env.hostsTable()), 10_000, () => 'the host shows as stale');
  const next = env.run(['--name', 'janitor', '--port', '9081'], ['true']);
  assert.equal(await next.exitWithin(60_000), 0, next.output());
  assert.match(next.output(), new RegExp(`removed 1 stale host\\(s\\) of runs that are gone: ${ns}`));
  assert.doesNotMatch((await runIn(undefined, ['ip', 'netns', 'list'])).stdout, new RegExp(ns));
  assert.equal((await env.hostsTable()).trim().split('\n').length, 1);
});

test('tsmesh hosts rm stops the run that owns the host and removes the host', { skip: !root && 'needs root (namespaces)' }, async () => {
  const r = env.run(['--name', 'doomed', '--port', '9080'], env.app('server.mjs', '9080', 'doomed'));
  await until(() => env.registered('doomed.default.svc.cluster.local', 9080), 60_000, r.output);
  const ns = /tsmesh-doomed-\w+/.exec(await env.hostsTable())![0];
  assert.match(await env.hostsTable(), new RegExp(`${ns} .* running `));
  const rm = await env.tsmesh(['hosts', 'rm', ns]);
  assert.equal(rm.code, 0, rm.stderr);
  assert.match(rm.stdout, new RegExp(`removed ${ns}`));
  assert.notEqual(await r.exitWithin(60_000), null);
  assert.doesNotMatch(await env.hostsTable(), /doomed/);
  assert.doesNotMatch((await runIn(undefined, ['ip', 'netns', 'list'])).stdout, new RegExp(ns));
  const unknown = await env.tsmesh(['hosts', 'rm', 'tsmesh-nobody-000000']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no host tsmesh-nobody-000000/);
});
