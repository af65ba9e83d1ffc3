import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the first folder above this file with a package.json (from bench/ or dist/bench/). */
export function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json'))) {
    const up = dirname(d);
    if (up === d) throw new Error('package.json not found above bench/');
    d = up;
  }
  return d;
}

/** Progress lines go to stderr, so stdout carries only the report. */
export const log = (line: string): void => { process.stderr.write(`${line}\n`); };
