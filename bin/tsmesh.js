#!/usr/bin/env node
// The compiled CLI lives in dist/; build it on first use so `npx tsmesh` works from a checkout.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// A sidecar should be small: V8's default 16 MiB young generation alone costs ~30 MiB of RSS,
// and a proxy's garbage is short-lived and small. Flags like this cannot be set once V8 is
// running, so the proxy re-executes itself in place (same PID) with them.
const PROXY_FLAGS = ['--max-semi-space-size=1'];
if (process.argv[2] === 'proxy' && !process.execArgv.includes(PROXY_FLAGS[0]) && !process.env.TSMESH_NO_REEXEC) {
  try {
    const { default: koffi } = await import('koffi');
    const libc = koffi.load('libc.so.6');
    const execv = libc.func('int execv(const char *, const char **)');
    const fcntl = libc.func('int fcntl(int, int, int)');
    // Node marks stdio close-on-exec; the new image must keep them.
    const F_SETFD = 2;
    for (const fd of [0, 1, 2]) fcntl(fd, F_SETFD, 0);
    const argv = [process.execPath, ...process.execArgv, ...PROXY_FLAGS, ...process.argv.slice(1)];
    execv(process.execPath, [...argv, null]);
  } catch {
    // Not possible here: run with V8's defaults.
  }
}

const entry = join(root, 'dist/src/cli/main.js');
if (!existsSync(entry)) {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
}
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv.slice(2));
