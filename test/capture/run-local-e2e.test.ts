import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../support/net.js';
import { startRunEnv, until, type RunEnv } from '../support/run-hosts.js';

/*
 * `tsmesh run` without root (as root: run as nobody): no namespace, no iptables; the sidecar on
 * 127.0.0.1 and the app with HTTP_PROXY. The mode is announced.
 */
const root = process.getuid?.() === 0;
let env: RunEnv;

before(async () => { env = await startRunEnv(); });
after(async () => { await env?.close(); });

test('without root: the local mode says so, and an app reaches another by name through HTTP_PROXY and both sidecars', async () => {
  const asUser = root;
  const port = await freePort();
  const details = env.run(['--name', 'details', '--port', String(port)], env.app('server.mjs', String(port), 'details-v1'), asUser);
  await until(() => env.registered('details.default.svc.cluster.local', port), 60_000, details.output);
  assert.match(details.output(), /mode local \(not root: no network namespace, no iptables\)/);
  const job = env.run(['--name', 'frontend', '--port', String(await freePort())], env.app('client.mjs', `http://details:${port}/d`), asUser);
  assert.equal(await job.exitWithin(60_000), 0, job.output());
  assert.match(job.output(), new RegExp(`details-v1 host=details:${port} path=/d`));
  details.child.kill('SIGTERM');
  await details.exitWithin(60_000);
});
