import { readFileSync } from 'node:fs';
import { writeFileAtomically } from '../atomic-write.js';
import type { ProxyIdentity } from '../../envoy/node-metadata.js';

/*
 * The auto-registered workloads, kept in the data dir across a control-plane restart. Without
 * them a restarted control plane would know no sidecar until each reconnects (after its own
 * backoff), and the first proxy back would be sent empty endpoints for every service whose
 * workloads had not reconnected yet: requests failing with "no healthy upstream" although every
 * workload is up. Restored workloads count as disconnected at the restart (see AutoRegistry.restore).
 */

const FORMAT = 1;

export function encodeRegistry(proxies: readonly ProxyIdentity[]): string {
  return `${JSON.stringify({ format: FORMAT, proxies }, null, 1)}\n`;
}

/** Parses a registry file; entries that are not a well-formed identity are skipped with a reason. */
export function decodeRegistry(text: string): { proxies: ProxyIdentity[]; issues: string[] } {
  let doc: unknown;
  try { doc = JSON.parse(text); } catch (e) { return { proxies: [], issues: [`not JSON: ${(e as Error).message}`] }; }
  const d = doc as { format?: unknown; proxies?: unknown };
  if (typeof doc !== 'object' || doc === null || d.format !== FORMAT || !Array.isArray(d.proxies)) return { proxies: [], issues: [`expected {"format": ${FORMAT}, "proxies": [...]}`] };
  const proxies: ProxyIdentity[] = [];
  const issues: string[] = [];
  d.proxies.forEach((p: unknown, i) => {
    const why = identityProblem(p);
    if (why) issues.push(`proxies[${i}]: ${why}`);
    else proxies.push(p as ProxyIdentity);
  });
  return { proxies, issues };
}

function identityProblem(p: unknown): string | undefined {
  if (typeof p !== 'object' || p === null || Array.isArray(p)) return 'expected an object';
  const o = p as Record<string, unknown>;
  for (const k of ['id', 'name', 'namespace', 'serviceAccount']) if (typeof o[k] !== 'string' || o[k] === '') return `${k}: expected a non-empty string`;
  if (o['generator'] !== 'sidecar' && o['generator'] !== 'grpc') return 'generator: expected sidecar or grpc';
  const labels = o['labels'];
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels) || !Object.values(labels).every((v) => typeof v === 'string')) return 'labels: expected an object of strings';
  if (!Array.isArray(o['ips']) || !o['ips'].every((v) => typeof v === 'string')) return 'ips: expected a list of strings';
  const port = (v: unknown): boolean => Number.isInteger(v) && (v as number) > 0 && (v as number) < 65536;
  if (!Array.isArray(o['appPorts']) || !o['appPorts'].every(port)) return 'appPorts: expected a list of ports';
  for (const k of ['inboundPort', 'outboundPort']) if (o[k] !== undefined && !port(o[k])) return `${k}: expected a port`;
  return undefined;
}

/** Reads the file; a missing file is an empty registry. */
export function loadRegistryFile(file: string): { proxies: ProxyIdentity[]; issues: string[] } {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { proxies: [], issues: [] };
    return { proxies: [], issues: [(e as Error).message] };
  }
  return decodeRegistry(text);
}

/** temp file + fsync + rename: the file is the old or the new version, never half. */
export function saveRegistryFile(file: string, proxies: readonly ProxyIdentity[]): void {
  writeFileAtomically(file, encodeRegistry(proxies));
}
