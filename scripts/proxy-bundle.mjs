// Builds the bundle `tsmesh proxy` runs from (src/cli/proxy-bundle.ts) after tsc, so that the
// first proxy started later (tests start many at once) finds it in place instead of building it.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { proxyBundleMain } = await import(join(root, 'dist/src/cli/proxy-bundle.js'));
const url = await proxyBundleMain(root);
console.log(url === undefined ? 'proxy bundle: none (esbuild missing?); the proxy runs dist/src' : `proxy bundle: ${url}`);
