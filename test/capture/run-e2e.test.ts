import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../support/net.js';
import { startRunEnv, until, type RunEnv } from '../support/run-hosts.js';
import { runIn } from '../../src/capture/iptables.js';

/*
 * `tsmesh run` end to end. As root (CI): each workload on a host of its own (network namespace
 * on a bridge of this test's own, addresses in 198.18.N.0/24), iptables capture, the sidecar as
 * uid 1337; apps that know nothing of the mesh call each other by name. Not as root: the local
 * mode (sidecar on 127.0.0.1, HTTP_PROXY). Everything created is removed, also on failure.
 */
const root = process.getuid?.() === 0;
let env: RunEnv;

before(async () => { env = await startRunEnv(); });
after(async () => { await env?.close(); });

test('an app reaches another by name through both sidecars; a job\'s exit stops its sidecar; SIGTERM drains and removes the host', { skip: !root && 'covered by the local-mode test below when not root' }, async () => {
  const reviews = env.run(['--name', 'reviews', '--label', 'version=v2', '--port', '9080'], env.app('server.mjs', '9080', 'reviews-v2'));
  await until(() => env.registered('reviews.default.svc.cluster.local', 9080), 60_000, () => `reviews never registered:\n${reviews.output()}`);
  assert.match(reviews.output(), /mode capture \(running as root\)/);
  assert.match(await env.hostsTable(), /tsmesh-reviews-\w+\s+reviews\s+198\.18\.\d+\.2\s+/);

  // productpage is a job: it calls reviews by its short name and exits.
  const job = env.run(['--name', 'productpage', '--port', '9080'], env.app('client.mjs', 'http://reviews:9080/reviews/1'));
  assert.equal(await job.exited, 0, job.output());
  assert.match(job.output(), /reviews-v2 host=reviews:9080 path=\/reviews\/1/);
  assert.match(job.output(), /exited with 0; draining the sidecar/);
  // Through reviews' sidecar: its inbound connection manager counted the request.
  const ns = /tsmesh-reviews-\w+/.exec(await env.hostsTable())![0];
  const stats = await runIn(ns, ['curl', '-s', 'http://127.0.0.1:15000/stats?filter=inbound_0.0.0.0_9080.downstream_rq_total']);
  assert.match(stats.stdout, /http\.inbound_0\.0\.0\.0_9080\.downstream_rq_total: [1-9]/, stats.stdout);
  // The job's host is gone with it.
  assert.doesNotMatch(await env.hostsTable(), /productpage/);

  // A job's exit code is tsmesh run's.
  const failing = env.run(['--name', 'batch', '--port', '8080'], ['sh', '-c', 'exit 7']);
  assert.equal(await failing.exited, 7, failing.output());

  reviews.child.kill('SIGTERM');
  assert.notEqual(await reviews.exited, null);
  assert.match(reviews.output(), /SIGTERM: stopping the app and the sidecar/);
  assert.equal((await env.hostsTable()).trim().split('\n').length, 1, 'only the header is left');
  assert.notEqual((await runIn(undefined, ['ip', 'link', 'show', 'dev', env.bridge])).code, 0, 'the bridge is gone with the last host');
  assert.doesNotMatch((await runIn(undefined, ['ip', 'netns', 'list'])).stdout, /tsmesh-(reviews|productpage|batch)-/);
});

test('a workload whose sidecar never becomes ready gets no traffic, and its app never starts', { skip: !root && 'needs root (namespaces)' }, async () => {
  const marker = join(env.dir, 'started');
  // Its xDS address answers nothing: the sidecar stays not ready.
  const r = env.run(['--name', 'ratings', '--port', '9080', '--xds', `127.0.0.1:${await freePort()}`], ['touch', marker]);
  await until(async () => /mode capture/.test(r.output()), 30_000, r.output);
  await new Promise((res) => setTimeout(res, 2000));
  assert.equal(await env.registered('ratings.default.svc.cluster.local', 9080), false, 'not an endpoint while its sidecar is not ready');
  assert.equal(existsSync(marker), false, 'the app waits for its sidecar');
  r.child.kill('SIGTERM');
  await r.exited;
  assert.equal(existsSync(marker), false);
  assert.doesNotMatch(await env.hostsTable(), /ratings/);
});

test('a run killed with SIGKILL leaves a stale host that the next run removes, with what ran in it', { skip: !root && 'needs root (namespaces)' }, async () => {
  const r = env.run(['--name', 'crashy', '--port', '9080'], env.app('server.mjs', '9080', 'crashy'));
  await until(() => env.registered('crashy.default.svc.cluster.local', 9080), 60_000, r.output);
  const ns = /tsmesh-crashy-\w+/.exec(await env.hostsTable())![0];
  r.child.kill('SIGKILL');
  await r.exited;
  await until(async () => /tsmesh-crashy-\w+ .* stale /.test(await env.hostsTable()), 10_000, () => 'the host shows as stale');
  const next = env.run(['--name', 'janitor', '--port', '9081'], ['true']);
  assert.equal(await next.exited, 0, next.output());
  assert.match(next.output(), new RegExp(`removed 1 stale host\\(s\\) of runs that are gone: ${ns}`));
  assert.doesNotMatch((await runIn(undefined, ['ip', 'netns', 'list'])).stdout, new RegExp(ns));
  assert.equal((await env.hostsTable()).trim().split('\n').length, 1);
});

test('without root: the local mode says so, and an app reaches another by name through HTTP_PROXY and both sidecars', async () => {
  const asUser = root;
  const port = await freePort();
  const details = env.run(['--name', 'details', '--port', String(port)], env.app('server.mjs', String(port), 'details-v1'), asUser);
  await until(() => env.registered('details.default.svc.cluster.local', port), 60_000, details.output);
  assert.match(details.output(), /mode local \(not root: no network namespace, no iptables\)/);
  const job = env.run(['--name', 'frontend', '--port', String(await freePort())], env.app('client.mjs', `http://details:${port}/d`), asUser);
  assert.equal(await job.exited, 0, job.output());
  assert.match(job.output(), new RegExp(`details-v1 host=details:${port} path=/d`));
  details.child.kill('SIGTERM');
  await details.exited;
});
