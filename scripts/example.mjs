// `npm run example`: the example service behind tsmesh proxy, a few requests through it.
import { spawn } from 'node:child_process';
import http2 from 'node:http2';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const children = [];
const start = (args, env = {}) => {
  const c = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const tag = args[0].includes('hello') ? 'service' : 'proxy';
  const show = (d) => { for (const line of String(d).split('\n')) if (line) process.stdout.write(`  [${tag}] ${line}\n`); };
  c.stdout.on('data', show);
  c.stderr.on('data', show);
  children.push(c);
  return c;
};
const stopAll = () => { for (const c of children) c.kill('SIGTERM'); };
process.on('SIGINT', () => { stopAll(); process.exit(130); });

async function waitFor(url) {
  for (let i = 0; i < 200; i++) {
    try { if ((await fetch(url)).ok) return; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} never came up`);
}

async function show(title, url, headers = {}) {
  const res = await fetch(url, { headers });
  console.log(`\n$ curl ${Object.entries(headers).map(([k, v]) => `-H '${k}: ${v}' `).join('')}${url}    # ${title}`);
  console.log(`  HTTP ${res.status}  server: ${res.headers.get('server')}  x-envoy-upstream-service-time: ${res.headers.get('x-envoy-upstream-service-time') ?? '-'}${res.headers.get('x-tsmesh-route') ? `  x-tsmesh-route: ${res.headers.get('x-tsmesh-route')}` : ''}`);
  console.log(`  ${(await res.text()).trim()}`);
}

try {
  start([join(root, 'examples/hello-service.mjs')], { PORT: '8080', NAME: 'hello' });
  start([join(root, 'bin/tsmesh.js'), 'proxy', '-c', join(root, 'examples/bootstrap.yaml'), '--concurrency', '2']);
  await waitFor('http://127.0.0.1:15000/ready');
  await waitFor('http://127.0.0.1:8080/');
  await show('through the proxy to the service', 'http://127.0.0.1:10000/products?id=1');
  await show('header match: canary route with prefix rewrite', 'http://127.0.0.1:10000/products', { 'x-canary': 'yes' });
  await show('direct response from the proxy', 'http://127.0.0.1:10000/health');
  // HTTP/2 cleartext, prior knowledge, to the same listener (codec_type AUTO).
  await new Promise((resolve, reject) => {
    const s = http2.connect('http://127.0.0.1:10000');
    s.on('error', reject);
    const r = s.request({ ':path': '/over-h2' });
    let body = '';
    r.on('response', (h) => console.log(`\n$ h2 prior knowledge GET /over-h2\n  HTTP/2 ${h[':status']}`));
    r.on('data', (d) => (body += d));
    r.on('end', () => { console.log(`  ${body.trim()}`); s.close(); resolve(); });
  });
  const stats = await (await fetch('http://127.0.0.1:15000/stats?filter=^(http\\.ingress\\.downstream_rq_(total|2xx)|cluster\\.hello\\.upstream_rq_total)$')).text();
  console.log(`\n$ curl 'localhost:15000/stats?filter=...'\n${stats.trim().split('\n').map((l) => `  ${l}`).join('\n')}`);
  console.log('\nDone: the requests above went through tsmesh proxy (access log lines are tagged [proxy]).');
} catch (e) {
  console.error(`example failed: ${e.message}`);
  process.exitCode = 1;
} finally {
  stopAll();
}
