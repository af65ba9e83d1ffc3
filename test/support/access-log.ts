import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A file access log for a connection manager: `%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS%` per line. */
export function accessLogFile(): { path: string; hcmExtra: string } {
  const path = join(mkdtempSync(join(tmpdir(), 'tsmesh-log-')), 'access.log');
  return {
    path,
    hcmExtra: `
access_log:
- name: envoy.access_loggers.file
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
    path: ${path}
    log_format: { text_format_source: { inline_string: "%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS%\\n" } }`,
  };
}

/**
 * The response flags logged for the last request to `path` (with `status`, when given: the log
 * is flushed on a short interval, per worker, so an earlier request's line may be the last one
 * written yet).
 */
export async function loggedFlags(file: string, path: string, status?: number): Promise<string> {
  const prefix = status === undefined ? `${path} ` : `${path} ${status} `;
  for (let i = 0; i < 200; i++) {
    let text = '';
    try { text = readFileSync(file, 'utf8'); } catch { /* not yet */ }
    const line = text.split('\n').reverse().find((l) => l.startsWith(prefix));
    if (line) return line.split(' ')[2]!;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no access log line for ${path}`);
}
