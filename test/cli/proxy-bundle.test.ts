import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleDir, distStamp } from '../../src/cli/proxy-bundle.js';
import { freePort } from '../support/net.js';
import { repoRoot } from '../support/proxy.js';

// A copy of the checkout (bin/, dist/src, package.json; node_modules linked), so that the test
// can change dist/src and see the proxy follow.
const dir = mkdtempSync(join(tmpdir(), 'tsmesh-bundle-'));
cpSync(join(repoRoot(), 'bin'), join(dir, 'bin'), { recursive: true });
cpSync(join(repoRoot(), 'dist/src'), join(dir, 'dist/src'), { recursive: true });
cpSync(join(repoRoot(), 'package.json'), join(dir, 'package.json'));
symlinkSync(join(repoRoot(), 'node_modules'), join(dir, 'node_modules'));
after(() => rmSync(dir, { recursive: true, force: true }));

// Which files the proxy loads, from a loader hook: only in the image that bin/tsmesh.js
// re-executes with its V8 flags, not in the CLI process before it.
const HOOK = join(dir, 'hook.mjs');
writeFileSync(HOOK, `
import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(
  "import { appendFileSync } from 'node:fs';" +
  "const proxy = process.execArgv.includes('--expose-gc');" +
  "export async function load(url, context, next) { if (proxy && url.startsWith('file:')) appendFileSync(process.env.TSMESH_TEST_LOADED, url + '\\\\n'); return next(url, context); }"));
`);

function bootstrap(adminPort: number, listenPort: number): string {
  const file = join(dir, `bootstrap-${listenPort}.yaml`);
  writeFileSync(file, `
admin: { address: { socket_address: { address: 127.0.0.1, port_value: ${adminPort} } } }
static_resources:
  listeners:
  - name: main
    address: { socket_address: { address: 127.0.0.1, port_value: ${listenPort} } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: main
          route_config:
            virtual_hosts: [ { name: all, domains: ["*"], routes: [ { match: { prefix: "/" }, direct_response: { status: 200, body: { inline_string: "from the bundle" } } } ] } ]
          http_filters:
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
`);
  return file;
}

const loadedFile = (): string => join(dir, `loaded-${Math.random().toString(36).slice(2)}.txt`);
const loaded = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter((u) => u !== '');

/** `tsmesh proxy` from the copy, until GET / on its listener answers; then stopped. */
async function serveOnce(concurrency: number, env: NodeJS.ProcessEnv = {}): Promise<{ body: string; loaded: string[] }> {
  const [adminPort, listenPort] = [await freePort(), await freePort()];
  const out = loadedFile();
  writeFileSync(out, '');
  const child: ChildProcess = spawn(process.execPath, ['--import', HOOK, join(dir, 'bin/tsmesh.js'), 'proxy', '-c', bootstrap(adminPort, listenPort), '--concurrency', String(concurrency)], {
    env: { ...process.env, ...env, TSMESH_TEST_LOADED: out }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`proxy exited with ${child.exitCode}: ${err}`);
      try {
        const res = await fetch(`http://127.0.0.1:${listenPort}/`, { signal: AbortSignal.timeout(5000) });
        return { body: await res.text(), loaded: loaded(out) };
      } catch { /* not listening yet */ }
      if (Date.now() > deadline) throw new Error(`proxy did not serve: ${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    if (child.exitCode === null) child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    if (child.exitCode === null) await exited;
    clearTimeout(t);
  }
}

const BUNDLE = /\/dist\/proxy-bundle\//;
const PROXY_SOURCES = /\/dist\/src\/proxy\//;

test('tsmesh proxy runs from a bundle of dist/src, built on first start', async () => {
  const r = await serveOnce(1);
  assert.equal(r.body, 'from the bundle');
  assert.ok(r.loaded.some((u) => BUNDLE.test(u)), 'loaded from dist/proxy-bundle');
  assert.deepEqual(r.loaded.filter((u) => PROXY_SOURCES.test(u)), [], 'no proxy module from dist/src');
  assert.ok(r.loaded.some((u) => u.startsWith(`file://${bundleDir(dir, distStamp(dir))}/`)), 'the bundle of this dist/src');
});

test('worker threads (--concurrency 2) start from the bundle too', async () => {
  const r = await serveOnce(2);
  assert.equal(r.body, 'from the bundle');
  assert.ok(r.loaded.some((u) => /\/dist\/proxy-bundle\/[0-9a-f]{16}\/proxy\/worker\.js$/.test(u)), 'the worker entry of the bundle');
  assert.deepEqual(r.loaded.filter((u) => PROXY_SOURCES.test(u)), []);
});

test('a changed dist/src is bundled again at the next start, beside the bundle before', () => {
  const before = bundleDir(dir, distStamp(dir));
  assert.ok(existsSync(join(before, 'cli/main.js')));
  const main = join(dir, 'dist/src/proxy/main.js');
  const text = readFileSync(main, 'utf8');
  assert.ok(text.includes("' OK\\n"), 'the --validate message is where the test expects it');
  writeFileSync(main, text.replace("' OK\\n", "' OK (changed)\\n"));
  const r = spawnSync(process.execPath, [join(dir, 'bin/tsmesh.js'), 'proxy', '-c', bootstrap(1, 2), '--validate'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /OK \(changed\)/);
  const now = bundleDir(dir, distStamp(dir));
  assert.notEqual(now, before);
  assert.equal(readFileSync(join(now, 'stamp'), 'utf8'), distStamp(dir));
  // A proxy still running from the bundle before may yet import chunks of it.
  assert.ok(existsSync(join(before, 'cli/main.js')), 'the bundle before is still there');
});

test('TSMESH_NO_BUNDLE=1 runs dist/src itself', async () => {
  const r = await serveOnce(1, { TSMESH_NO_BUNDLE: '1' });
  assert.equal(r.body, 'from the bundle');
  assert.ok(r.loaded.some((u) => PROXY_SOURCES.test(u)));
  assert.ok(!r.loaded.some((u) => BUNDLE.test(u)));
});
