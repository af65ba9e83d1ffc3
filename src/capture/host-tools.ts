import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The commands of `names` found nowhere on PATH (nor in the sbin directories root uses). */
export function missingCommands(names: readonly string[]): string[] {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/sbin'].filter((d) => d !== '');
  return names.filter((n) => !dirs.some((d) => {
    try { accessSync(join(d, n), constants.X_OK); return true; } catch { return false; }
  }));
}
