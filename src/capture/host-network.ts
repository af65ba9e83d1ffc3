import { randomBytes } from 'node:crypto';
import { closeSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { runIn, type CommandResult } from './iptables.js';

/**
 * Hosts of `tsmesh run`: a network namespace per workload, attached to a bridge in the root
 * namespace (DESIGN.md, test hosts). Addresses come from the bridge's subnet (198.18.0.0/16 by
 * default, the bridge itself .1); the only routes a host has are its subnet and the service
 * VIPs (198.19.0.0/16, on its own link: captured before they would leave), so nothing is routed
 * anywhere else. What exists is recorded in the state directory, so `tsmesh hosts ls|rm` and the
 * stale-host cleanup of a later run know it.
 */
export interface NetworkOptions {
  readonly stateDir: string;
  /** The bridge's name (at most 15 characters). */
  readonly bridge: string;
  /** The bridge's address and prefix, e.g. 198.18.0.1/16; hosts get the others. */
  readonly gateway: string;
}

export const NETWORK_DEFAULTS: NetworkOptions = { stateDir: '/run/tsmesh', bridge: 'tsmesh0', gateway: '198.18.0.1/16' };

export const VIP_RANGE = '198.19.0.0/16';

/** One host, as recorded in STATE_DIR/hosts/NETNS.json. */
export interface HostRecord {
  readonly netns: string;
  readonly workload: string;
  readonly address: string;
  readonly veth: string;
  readonly bridge: string;
  /** The `tsmesh run` process that owns it; a host whose owner is gone is stale. */
  readonly pid: number;
  readonly startedAt: string;
}

export class HostError extends Error {}

async function must(cmd: string[], netns?: string): Promise<CommandResult> {
  const r = await runIn(netns, cmd);
  if (r.code !== 0) throw new HostError(`${netns ? `(in ${netns}) ` : ''}${cmd.join(' ')} failed: ${r.stderr.trim() || `exit ${r.code}`}`);
  return r;
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

function hostsDir(o: NetworkOptions): string {
  return join(o.stateDir, 'hosts');
}

/** Creates the bridge with its address when it does not exist yet. */
export async function ensureBridge(o: NetworkOptions): Promise<void> {
  if ((await runIn(undefined, ['ip', 'link', 'show', 'dev', o.bridge])).code === 0) return;
  const r = await runIn(undefined, ['ip', 'link', 'add', o.bridge, 'type', 'bridge']);
  // Another `tsmesh run` may have created it meanwhile.
  if (r.code !== 0 && (await runIn(undefined, ['ip', 'link', 'show', 'dev', o.bridge])).code !== 0) throw new HostError(`cannot create bridge ${o.bridge}: ${r.stderr.trim()}`);
  await runIn(undefined, ['ip', 'addr', 'add', o.gateway, 'dev', o.bridge]);
  await must(['ip', 'link', 'set', o.bridge, 'up']);
}

/**
 * Claims a free address of the subnet: an exclusive file per address in the state directory,
 * so concurrent runs never pick the same one.
 */
function claimAddress(o: NetworkOptions): { address: string; release: () => void } {
  const [gw, len] = o.gateway.split('/') as [string, string];
  const size = 2 ** (32 - Number(len));
  const base = ipToInt(gw) - (ipToInt(gw) % size);
  const dir = join(o.stateDir, 'addresses');
  mkdirSync(dir, { recursive: true });
  for (let i = 2; i < size - 1; i++) {
    const address = intToIp(base + i);
    if (address === gw) continue;
    const file = join(dir, address);
    try {
      closeSync(openSync(file, 'wx'));
      return { address, release: () => rmSync(file, { force: true }) };
    } catch {
      continue;
    }
  }
  throw new HostError(`no free address left in ${o.gateway}`);
}

/**
 * Creates a host for `workload`: namespace, veth pair (eth0 inside) on the bridge, address, the
 * VIP route, loopback, and an /etc/netns/NETNS/hosts that `ip netns exec` shows as /etc/hosts.
 * Recorded before anything is created, so a crash half-way is still cleaned up.
 */
export async function createHost(o: NetworkOptions, workload: string, pid = process.pid): Promise<HostRecord> {
  await ensureBridge(o);
  const id = randomBytes(3).toString('hex');
  const { address } = claimAddress(o);
  const rec: HostRecord = { netns: `tsmesh-${workload}-${id}`, workload, address, veth: `tsm${id}`, bridge: o.bridge, pid, startedAt: new Date().toISOString() };
  mkdirSync(hostsDir(o), { recursive: true });
  writeFileSync(join(hostsDir(o), `${rec.netns}.json`), `${JSON.stringify(rec, null, 2)}\n`);
  try {
    const prefix = o.gateway.split('/')[1]!;
    await must(['ip', 'netns', 'add', rec.netns]);
    await must(['ip', 'link', 'add', rec.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', rec.netns]);
    await must(['ip', 'link', 'set', rec.veth, 'master', o.bridge, 'up']);
    await must(['ip', 'link', 'set', 'lo', 'up'], rec.netns);
    await must(['ip', 'addr', 'add', `${address}/${prefix}`, 'dev', 'eth0'], rec.netns);
    await must(['ip', 'link', 'set', 'eth0', 'up'], rec.netns);
    await must(['ip', 'route', 'add', VIP_RANGE, 'dev', 'eth0'], rec.netns);
    mkdirSync(`/etc/netns/${rec.netns}`, { recursive: true });
    writeHostsFile(rec, '');
  } catch (e) {
    await removeHost(o, rec);
    throw e;
  }
  return rec;
}

/**
 * Writes the host's /etc/hosts in place: `ip netns exec` bind-mounts this very file, so a new
 * file (rename) would not be seen by processes already running.
 */
export function writeHostsFile(rec: HostRecord, services: string): void {
  // The host's own name is its namespace's (as a pod's is the pod name): the workload's name is
  // its service's, which must resolve to the service VIP to go through the sidecars.
  const text = `127.0.0.1 localhost\n${rec.address} ${rec.netns}\n${services}`;
  const file = `/etc/netns/${rec.netns}/hosts`;
  const fd = openSync(file, existsSync(file) ? 'r+' : 'w');
  try {
    const buf = Buffer.from(text);
    writeSync(fd, buf, 0, buf.length, 0);
    // Truncating after the write (not before) keeps the file from ever being empty.
    ftruncateSync(fd, buf.length);
  } finally {
    closeSync(fd);
  }
}

/** Removes everything of the host (each step tolerates a part already gone) and its record. */
export async function removeHost(o: NetworkOptions, rec: HostRecord): Promise<void> {
  // Processes left in the namespace (the sidecar and app of a run that crashed) go first: a
  // namespace lives on as long as a process is in it.
  const pids = (await runIn(undefined, ['ip', 'netns', 'pids', rec.netns])).stdout.split('\n').map(Number).filter((n) => Number.isInteger(n) && n > 1);
  for (const pid of pids) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  await runIn(undefined, ['ip', 'link', 'del', rec.veth]);
  await runIn(undefined, ['ip', 'netns', 'del', rec.netns]);
  rmSync(`/etc/netns/${rec.netns}`, { recursive: true, force: true });
  rmSync(join(o.stateDir, 'addresses', rec.address), { force: true });
  rmSync(join(hostsDir(o), `${rec.netns}.json`), { force: true });
  // The bridge goes with the last host of this state directory.
  if (listHosts(o).length === 0) await runIn(undefined, ['ip', 'link', 'del', o.bridge]);
}

export function listHosts(o: NetworkOptions): HostRecord[] {
  let files: string[];
  try {
    files = readdirSync(hostsDir(o)).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  const out: HostRecord[] = [];
  for (const f of files.sort()) {
    try {
      out.push(JSON.parse(readFileSync(join(hostsDir(o), f), 'utf8')) as HostRecord);
    } catch {
      continue;
    }
  }
  return out;
}

export function ownerAlive(rec: HostRecord): boolean {
  try {
    process.kill(rec.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the hosts whose `tsmesh run` is gone (a crash, a SIGKILL); returns them. */
export async function removeStaleHosts(o: NetworkOptions): Promise<HostRecord[]> {
  const stale = listHosts(o).filter((h) => !ownerAlive(h));
  for (const h of stale) await removeHost(o, h);
  return stale;
}
