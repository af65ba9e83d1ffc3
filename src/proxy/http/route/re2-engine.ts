import { createRequire } from 'node:module';
import type { RE2JS } from 're2js';

let engine: typeof RE2JS | undefined;

/**
 * The RE2 engine (re2js), loaded on the first regex a configuration has: it is ~1.7 MiB of a
 * sidecar's idle memory, and most configurations have no regex at all. Loaded synchronously
 * (its CommonJS build), so config compilation stays synchronous; every user goes through here,
 * so there is one RE2JS class in the process.
 */
export function re2(): typeof RE2JS {
  engine ??= (createRequire(import.meta.url)('re2js') as { RE2JS: typeof RE2JS }).RE2JS;
  return engine;
}
