import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../support/proxy.js';

/*
 * `tsmesh demo`, the README's main command, as a user runs it: the control plane, six bookinfo
 * workloads with their sidecars, and each scene printing what the requests saw. As root (CI)
 * the workloads run each on a host of its own with capture and mutual TLS between hosts; the
 * loopback mode (HTTP_PROXY) is the same walk with --no-capture.
 */
const root = process.getuid?.() === 0;

/** The counts a scene line prints: `  TITLE: KEY ×N, KEY ×N`. */
function counts(out: string, title: string): Record<string, number> {
  const line = out.split('\n').find((l) => l.startsWith(`  ${title}: `));
  assert.ok(line, `no "${title}" line in:\n${out}`);
  const r: Record<string, number> = {};
  for (const m of line.slice(title.length + 4).matchAll(/(.+?) ×(\d+)(?:, |$)/g)) r[m[1]!] = Number(m[2]);
  return r;
}

/** Runs the demo; past the deadline it gets Ctrl-C (SIGINT stops its whole mesh), then SIGKILL. */
function runDemo(deadlineMs: number, extra: readonly string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(repoRoot(), 'bin/tsmesh.js'), 'demo', '--requests', '5', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const int = setTimeout(() => child.kill('SIGINT'), deadlineMs);
  const kill = setTimeout(() => child.kill('SIGKILL'), deadlineMs + 15_000);
  return new Promise((resolve) => child.on('exit', (code) => { clearTimeout(int); clearTimeout(kill); resolve({ code, stdout, stderr }); }));
}

function assertScenes(out: string): void {
  const v1 = 'reviews v1 (no stars)';
  const v2 = 'reviews v2 (black stars)';
  assert.deepEqual(counts(out.slice(out.indexOf('1. Everyone on reviews v1')), '5 requests'), { [v1]: 5 });

  const canary = counts(out.slice(out.indexOf('2. Canary')), '5 requests');
  assert.equal(Object.values(canary).reduce((a, b) => a + b, 0), 5);
  for (const k of Object.keys(canary)) assert.ok(k === v1 || k === 'reviews v3 (red stars)', `canary: ${k}`);

  assert.deepEqual(counts(out, 'as jason'), { [v2]: 5 });
  assert.deepEqual(counts(out, 'anonymous'), { [v1]: 5 });
  const noRetries = counts(out, 'as jason, no retries');
  assert.equal(Object.values(noRetries).reduce((a, b) => a + b, 0), 5);
  assert.ok(Object.keys(noRetries).some((k) => k.includes('unavailable (500)')), `the flaky ratings shows without retries: ${JSON.stringify(noRetries)}`);
  assert.deepEqual(counts(out, 'as jason, with retries'), { [v2]: 5 }, 'retries hide the flaky ratings');
  assert.deepEqual(counts(out, 'as jason, 5 requests'), { 'reviews failed (504)': 5 }, 'the timeout scene');
  assert.match(out, /^Done\. The sidecars kept serving through every change; nothing was restarted\.$/m);
}

test('tsmesh demo --requests 5 walks through every scene and shows the expected versions', { timeout: 180_000 }, async () => {
  const r = await runDemo(150_000);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assertScenes(r.stdout);
  if (!root) { assert.doesNotMatch(r.stdout, /host 198\.18\./); return; }
  // Captured: every workload on its own host, and the proof that hosts talk mutual TLS.
  for (const w of ['productpage-v1', 'details-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3', 'ratings-v1']) assert.match(r.stdout, new RegExp(`^  ${w} +host 198\\.18\\.\\d+\\.\\d+$`, 'm'));
  assert.match(r.stdout, /details' app received x-forwarded-client-cert from its sidecar: By=spiffe:\/\/cluster\.local\/ns\/default\/sa\/bookinfo-details;.*URI=spiffe:\/\/cluster\.local\/ns\/default\/sa\/bookinfo-productpage/);
  assert.match(r.stdout, /details' sidecar counted [1-9]\d* request\(s\) in with connection_security_policy="mutual_tls"/);
});

test('tsmesh demo --no-capture runs the same walk on loopback through HTTP_PROXY', { skip: !root && 'without root the test above already runs the loopback mode', timeout: 180_000 }, async () => {
  const r = await runDemo(150_000, ['--no-capture']);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assertScenes(r.stdout);
  assert.doesNotMatch(r.stdout, /host 198\.18\./);
});
