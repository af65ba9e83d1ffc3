#!/usr/bin/env node
// The compiled CLI lives in dist/; build it on first use so `npx tsmesh` works from a checkout.
import { existsSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (rel) => pathToFileURL(join(root, 'dist/src', rel)).href;

if (!existsSync(join(root, 'dist/src/cli/main.js'))) {
  const { execFileSync } = await import('node:child_process');
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
}

// A sidecar should be small. V8 flags that shape memory cannot be set once V8 is running, so
// the proxy re-executes itself in place (same PID) with them:
// - a 1 MiB young generation: V8's default 16 MiB alone costs ~30 MiB of RSS, and a proxy's
//   garbage is short-lived and small;
// - no optimizing (TurboFan) or baseline (Sparkplug) compiler during start-up, which would
//   otherwise compile start-up-only code (module loading, descriptor hydration, config
//   parsing) and touch the compilers' own pages: ~5 MiB of idle RSS. The proxy turns both back
//   on once it is ready (TSMESH_RESUME_V8_FLAGS, src/proxy/start-up.ts), before it serves any
//   request, so request-path code is optimized as before (same instructions per request under
//   callgrind);
// - --expose-gc, to collect start-up garbage once ready (src/proxy/start-up.ts);
// - no allocation-site pretenuring: V8 had decided, from the first requests, to allocate some
//   request-path literals (header lists among them) straight in the old generation; those then
//   kept every young object they point to alive through each young-generation GC, which copied
//   and promoted ~1 KiB per request (under load 117 KiB survived each scavenge, 47 KiB of it
//   promoted, vs 32 KiB and none without), so the old generation grew until a full GC.
const PROXY_FLAGS = ['--max-semi-space-size=1', '--no-opt', '--no-sparkplug', '--expose-gc', '--no-allocation-site-pretenuring'];
const RESUME_FLAGS = '--opt --sparkplug';
if (process.argv[2] === 'proxy' && !process.execArgv.includes(PROXY_FLAGS[0]) && !process.env.TSMESH_NO_REEXEC) {
  try {
    const { default: koffi } = await import('koffi');
    const libc = koffi.load('libc.so.6');
    const execv = libc.func('int execv(const char *, const char **)');
    const fcntl = libc.func('int fcntl(int, int, int)');
    const memfdCreate = libc.func('int memfd_create(const char *, unsigned int)');
    // Node marks stdio close-on-exec; the new image must keep them.
    const F_SETFD = 2;
    for (const fd of [0, 1, 2]) fcntl(fd, F_SETFD, 0);
    // A YAML bootstrap is read here, as JSON for the new image (src/cli/bootstrap-handoff.ts).
    // Best effort: without it the new image reads the file itself.
    try {
      const { proxyBootstrapAsJson, HANDOFF_ENV } = await import(dist('cli/bootstrap-handoff.js'));
      const json = await proxyBootstrapAsJson(process.argv.slice(3));
      const fd = json === undefined ? -1 : memfdCreate('tsmesh-bootstrap', 0); // no MFD_CLOEXEC: it must survive execv
      if (fd >= 0) {
        const bytes = Buffer.from(json);
        for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off);
        process.env[HANDOFF_ENV] = String(fd);
      }
    } catch {
      // Read by the new image instead.
    }
    // The proxy runs from a bundle of dist/src, built here when stale (src/cli/proxy-bundle.ts).
    // Best effort: without it the new image runs dist/src.
    if (!process.env.TSMESH_NO_BUNDLE) {
      try {
        const { proxyBundleMain, BUNDLE_ENV } = await import(dist('cli/proxy-bundle.js'));
        const url = await proxyBundleMain(root);
        if (url !== undefined) process.env[BUNDLE_ENV] = url;
      } catch {
        // Runs dist/src instead.
      }
    }
    process.env.TSMESH_RESUME_V8_FLAGS = RESUME_FLAGS;
    const argv = [process.execPath, ...process.execArgv, ...PROXY_FLAGS, ...process.argv.slice(1)];
    execv(process.execPath, [...argv, null]);
  } catch {
    // Not possible here: run with V8's defaults.
  }
  // Still here: execv failed. Run in this process, which has the JIT it started with.
  delete process.env.TSMESH_RESUME_V8_FLAGS;
}

// Set (to the bundle's cli/main.js) only by the block above, for the image it re-executed.
const bundled = process.argv[2] === 'proxy' ? process.env.TSMESH_PROXY_MAIN : undefined;
delete process.env.TSMESH_PROXY_MAIN;
const { main } = await import(bundled ?? dist('cli/main.js'));
process.exitCode = await main(process.argv.slice(2));
