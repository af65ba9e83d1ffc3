import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/proxy.js';

/*
 * No container image can be built here, so the Dockerfile is checked by its contents: what
 * the runtime image is based on, that it runs as the sidecar's non-root uid, that it carries
 * production dependencies and compiled code only, and that `tsmesh` is its entrypoint (the
 * injected containers' args start with the subcommand).
 */
const text = readFileSync(join(repoRoot(), 'Dockerfile'), 'utf8');
const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
const stages = lines.reduce<string[][]>((acc, l) => { if (/^FROM /i.test(l)) acc.push([l]); else acc[acc.length - 1]?.push(l); return acc; }, []);
const runtime = stages[stages.length - 1]!;

test('two stages on node:20-slim; the last one is the image', () => {
  assert.deepEqual(stages.map((s) => s[0]), ['FROM node:20-slim AS build', 'FROM node:20-slim']);
});

test('the build stage compiles with the dev dependencies; the image installs production ones only', () => {
  assert.ok(stages[0]!.includes('RUN npx tsc -p tsconfig.json'));
  assert.ok(runtime.some((l) => /^RUN npm ci --omit=dev\b/.test(l)), 'npm ci --omit=dev in the image');
  assert.ok(!runtime.some((l) => /npm (ci|install)(?!.*--omit=dev)/.test(l)), 'no dev dependencies in the image');
});

test('the image copies only package files, bin/, the compiled src/ and the bundle the proxy runs from', () => {
  const copies = runtime.filter((l) => /^COPY /.test(l));
  assert.deepEqual(copies, ['COPY package.json package-lock.json ./', 'COPY bin ./bin', 'COPY --from=build /src/dist/src ./dist/src', 'COPY --from=build /src/dist/proxy-bundle ./dist/proxy-bundle']);
  // Built after the compiler, from what it wrote (the image has no esbuild to build it itself).
  assert.ok(stages[0]!.findIndex((l) => /buildProxyBundle/.test(l)) > stages[0]!.indexOf('RUN npx tsc -p tsconfig.json'));
});

test('it runs as uid 1337, not root, with tsmesh as the entrypoint', () => {
  const users = runtime.filter((l) => /^USER /.test(l));
  assert.deepEqual(users, ['USER 1337:1337']);
  assert.ok(runtime.indexOf(users[0]!) > runtime.findIndex((l) => /^RUN npm ci/.test(l)), 'USER after the installs');
  assert.ok(runtime.some((l) => l === 'ENTRYPOINT ["tsmesh"]'));
  assert.ok(runtime.some((l) => /ln -s \/opt\/tsmesh\/bin\/tsmesh\.js \/usr\/local\/bin\/tsmesh/.test(l)), 'tsmesh on PATH');
});

test('the .dockerignore keeps node_modules and dist out of the build context', () => {
  const ignored = readFileSync(join(repoRoot(), '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
  for (const p of ['node_modules', 'dist', '.git']) assert.ok(ignored.includes(p), p);
});
