import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startRunEnv, until, type RunEnv } from '../support/run-hosts.js';
import { runIn } from '../../src/capture/iptables.js';

/*
 * `tsmesh run` end to end as root (CI runs as root): each workload on a host of its own
 * (network namespace on a bridge of this test's own, addresses in 198.18.N.0/24), iptables
 * capture, the sidecar as uid 1337; apps that know nothing of the mesh call each other by name.
 * Not as root, run-local-e2e.test.ts covers the same in the local mode. Everything created is
 * removed, also on failure.
 */
const root = process.getuid?.() === 0;
let env: RunEnv;

before(async () => { env = await startRunEnv(); });
after(async () => { await env?.close(); });

test('an app reaches another by name through both sidecars with mutual TLS; a job\'s exit stops its sidecar; SIGTERM drains and removes the host', { skip: !root && 'needs root (namespaces, iptables); run-local-e2e.test.ts covers the local mode' }, async () => {
  const reviews = env.run(['--name', 'reviews', '--label', 'version=v2', '--port', '9080'], env.app('server.mjs', '9080', 'reviews-v2'));
  await until(() => env.registered('reviews.default.svc.cluster.local', 9080), 60_000, () => `reviews never registered:\n${reviews.output()}`);
  assert.match(reviews.output(), /mode capture \(running as root\)/);
  assert.match(await env.hostsTable(), /tsmesh-reviews-\w+\s+reviews\s+198\.18\.\d+\.2\s+/);

  // productpage is a job: it calls reviews by its short name and exits.
  const job = env.run(['--name', 'productpage', '--port', '9080'], env.app('client.mjs', 'http://reviews:9080/reviews/1'));
  assert.equal(await job.exitWithin(60_000), 0, job.output());
  assert.match(job.output(), /reviews-v2 host=reviews:9080 path=\/reviews\/1/);
  // Between the hosts the hop was mutual TLS: reviews' sidecar verified productpage's workload
  // certificate and handed its SPIFFE ID to the app.
  assert.match(job.output(), /xfcc=By=spiffe:\/\/cluster\.local\/ns\/default\/sa\/default;Hash=[0-9a-f]+;.*URI=spiffe:\/\/cluster\.local\/ns\/default\/sa\/default/);
  assert.match(job.output(), /exited with 0; draining the sidecar/);
  // Through reviews' sidecar: its inbound connection manager counted the request.
  const ns = /tsmesh-reviews-\w+/.exec(await env.hostsTable())![0];
  const stats = await runIn(ns, ['curl', '-s', 'http://127.0.0.1:15000/stats?filter=inbound_0.0.0.0_9080.downstream_rq_total']);
  assert.match(stats.stdout, /http\.inbound_0\.0\.0\.0_9080\.downstream_rq_total: [1-9]/, stats.stdout);
  // The job's host is gone with it.
  assert.doesNotMatch(await env.hostsTable(), /productpage/);

  // A job's exit code is tsmesh run's.
  const failing = env.run(['--name', 'batch', '--port', '8080'], ['sh', '-c', 'exit 7']);
  assert.equal(await failing.exitWithin(60_000), 7, failing.output());

  reviews.child.kill('SIGTERM');
  assert.notEqual(await reviews.exitWithin(60_000), null);
  assert.match(reviews.output(), /SIGTERM: stopping the app and the sidecar/);
  assert.equal((await env.hostsTable()).trim().split('\n').length, 1, 'only the header is left');
  assert.notEqual((await runIn(undefined, ['ip', 'link', 'show', 'dev', env.bridge])).code, 0, 'the bridge is gone with the last host');
  assert.doesNotMatch((await runIn(undefined, ['ip', 'netns', 'list'])).stdout, /tsmesh-(reviews|productpage|batch)-/);
});
