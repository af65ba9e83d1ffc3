import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/*
 * `tsmesh proxy` runs from a bundle of dist/src (bin/tsmesh.js asks for it before it
 * re-executes the proxy): Node keeps, for every ES module it has loaded, a module record,
 * its resolve and load cache entries, URL strings and the module's whole source text, ~4 KiB of
 * heap per module beside the source; a proxy imports ~350 modules at start-up. esbuild puts
 * them in a few files and drops whitespace: ~2.6 MiB less idle RSS (60.1 -> 57.5 MiB).
 * esbuild splits the bundle at every dynamic import(), so what the proxy loads on first use
 * (HTTP filters, tracing, generated descriptors...) still loads only then.
 *
 * A bundle lives in dist/proxy-bundle/ID/ with a stamp: a hash of everything under dist/src
 * and of the bundled package's version (ID is its start). When dist/src changes, the next proxy
 * start builds a new one (~1 s) beside the old, which stays for a while: a proxy still running
 * from it may yet import a chunk it loads on first use. Where none can be built (no esbuild, as
 * in a production install, or a read-only dist/), the proxy runs from dist/src as before.
 */
export const BUNDLE_ENV = 'TSMESH_PROXY_MAIN';

const BUNDLES = 'dist/proxy-bundle';
/** Bumped when the options below change, so that older bundles count as stale. */
const FORMAT = 'esbuild-1';
/** Bundles kept besides the newest, for proxies still running from them. */
const KEEP_OLDER = 2;

/** A hash of dist/src (paths and contents) and of the bundled @bufbuild/protobuf version. */
export function distStamp(root: string): string {
  const h = createHash('sha256');
  h.update(FORMAT);
  h.update(readFileSync(join(root, 'node_modules/@bufbuild/protobuf/package.json')));
  const walk = (dir: string, rel: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) { walk(p, `${rel}${e.name}/`); continue; }
      h.update(`\0${rel}${e.name}\0`);
      h.update(readFileSync(p));
    }
  };
  walk(join(root, 'dist/src'), '');
  return h.digest('hex');
}

/** Where the bundle of `stamp` lives. */
export function bundleDir(root: string, stamp: string): string {
  return join(root, BUNDLES, stamp.slice(0, 16));
}

/** The bundle's `cli/main.js` URL when the bundle of `stamp` is in place. */
function current(root: string, stamp: string): string | undefined {
  const dir = bundleDir(root, stamp);
  try {
    if (readFileSync(join(dir, 'stamp'), 'utf8') !== stamp) return undefined;
  } catch {
    return undefined;
  }
  return pathToFileURL(join(dir, 'cli/main.js')).href;
}

/** Removes all but the newest bundles besides `keep`, and builds left over by a crashed start. */
function prune(root: string, keep: string): void {
  const parent = join(root, BUNDLES);
  const entries = readdirSync(parent).map((name) => {
    try { return { name, mtimeMs: statSync(join(parent, name)).mtimeMs }; } catch { return undefined; }
  }).filter((e) => e !== undefined);
  const hourAgo = Date.now() - 3_600_000;
  const older = entries.filter((e) => !e.name.startsWith('.') && join(parent, e.name) !== keep).sort((a, b) => b.mtimeMs - a.mtimeMs);
  const gone = [...older.slice(KEEP_OLDER), ...entries.filter((e) => e.name.startsWith('.') && e.mtimeMs < hourAgo)];
  for (const e of gone) rmSync(join(parent, e.name), { recursive: true, force: true });
}

/**
 * Builds dist/proxy-bundle from dist/src (entries cli/main.js and proxy/worker.js; every
 * package but @bufbuild/protobuf stays an import of node_modules). Throws when esbuild is
 * missing or fails. Safe to run from several processes at once: each writes a directory of its
 * own and renames it into place.
 */
export async function buildProxyBundle(root: string, stamp = distStamp(root)): Promise<string> {
  // Without worker threads esbuild's buildSync runs its binary once and waits for it to exit:
  // no build service left running as a child of the proxy that bin/tsmesh.js re-executes.
  process.env.ESBUILD_WORKER_THREADS = '0';
  const esbuild = await import('esbuild');
  delete process.env.ESBUILD_WORKER_THREADS;
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
  const external = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })
    .filter((name) => name !== '@bufbuild/protobuf')
    .flatMap((name) => [name, `${name}/*`]);
  const dir = bundleDir(root, stamp);
  const out = join(root, BUNDLES, `.${process.pid}.tmp`);
  const src = join(root, 'dist/src');
  rmSync(out, { recursive: true, force: true });
  try {
    esbuild.buildSync({
      entryPoints: [join(src, 'cli/main.js'), join(src, 'proxy/worker.js')],
      outbase: src,
      outdir: out,
      // Every chunk beside proxy/worker.js: proxy/main.ts starts workers from
      // new URL('./worker.js', import.meta.url), and createRequire(import.meta.url) finds
      // node_modules from any directory under the root.
      chunkNames: 'proxy/[name]-[hash]',
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      external,
      // Whitespace and syntax only: names stay as written, for stack traces and logs.
      minifyWhitespace: true,
      minifySyntax: true,
      legalComments: 'none',
      logLevel: 'silent',
    });
    writeFileSync(join(out, 'stamp'), stamp);
    renameSync(out, dir);
  } catch (e) {
    rmSync(out, { recursive: true, force: true });
    // Another process may have put the same bundle in place meanwhile.
    const url = current(root, stamp);
    if (url !== undefined) return url;
    throw e;
  }
  try { prune(root, dir); } catch { /* tidying only */ }
  return pathToFileURL(join(dir, 'cli/main.js')).href;
}

/**
 * The URL of the bundled CLI for the checkout at `root`, built first when missing or stale;
 * undefined when there is none to be had (the caller then runs dist/src).
 */
export async function proxyBundleMain(root: string): Promise<string | undefined> {
  try {
    const stamp = distStamp(root);
    return current(root, stamp) ?? await buildProxyBundle(root, stamp);
  } catch {
    return undefined;
  }
}
