import { closeSync, readFileSync } from 'node:fs';
import { parseArgs, one } from './args.js';
import { PROXY_ARGS } from './proxy-args.js';
import { parseJsonWithoutDuplicates } from '../envoy/json-text.js';

/*
 * bin/tsmesh.js re-executes `tsmesh proxy` (with V8 flags that cannot be set later). Before it
 * does, it turns a YAML bootstrap into JSON text and hands it over in a memfd named by
 * TSMESH_BOOTSTRAP_JSON_FD, so the proxy that keeps running never loads the YAML parser (~1.5
 * MiB it would hold for its whole life). The proxy still validates everything itself; when the
 * handover is absent or unusable it reads the file as before.
 */
export const HANDOFF_ENV = 'TSMESH_BOOTSTRAP_JSON_FD';

/**
 * For the arguments of `tsmesh proxy`: the bootstrap as JSON text when it is YAML that JSON
 * carries exactly; undefined when it is JSON already, or anything goes wrong (the proxy then
 * reads the file itself and reports what is wrong with it).
 */
export async function proxyBootstrapAsJson(args: readonly string[]): Promise<string | undefined> {
  let file: string | undefined;
  let text: string;
  try {
    file = one(parseArgs(args, PROXY_ARGS), 'config-path');
    if (file === undefined) return undefined;
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  if (parseJsonWithoutDuplicates(text) !== undefined) return undefined;
  const { yamlAsJsonText } = await import('../envoy/yaml-json.js');
  return yamlAsJsonText(text);
}

/** The JSON text handed over by bin/tsmesh.js, once: the fd is closed and the variable unset. */
export function takeHandedOffBootstrap(): string | undefined {
  const fd = process.env[HANDOFF_ENV];
  delete process.env[HANDOFF_ENV];
  if (fd === undefined || !/^\d+$/.test(fd)) return undefined;
  try {
    // Through /proc: the writer left the file offset at the end.
    return readFileSync(`/proc/self/fd/${fd}`, 'utf8');
  } catch {
    return undefined;
  } finally {
    try { closeSync(Number(fd)); } catch { /* not open */ }
  }
}
