import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';

/**
 * Writes `text` to `file` through a temp file in the same directory, fsync and rename: a reader
 * (or a restart after a crash) sees the old or the new version, never half of one. The caller
 * fsyncs the directory when the rename itself must survive a power loss.
 */
export function writeFileAtomically(file: string, text: string): void {
  const tmp = join(dirname(file), `.tmp-${randomBytes(6).toString('hex')}`);
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
