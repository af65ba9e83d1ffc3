import { isIPv4 } from 'node:net';

/**
 * Service VIPs for services that declare no `addresses`, from 198.19.0.0/16 (DESIGN.md: service
 * VIPs), as Istio's ServiceEntry address auto-allocation does for its DNS proxy: traffic capture
 * needs an address per service that a workload's resolver can return and its sidecar can match.
 *
 * Deterministic and stable: a host's slot is a hash of its name, and only a collision moves it
 * (to the next free slot, hosts taken in sorted order), so restarts and unrelated changes keep
 * every address. Addresses declared inside the range are never handed out. Pure.
 */
export function allocateVips(hostnames: readonly string[], declared: readonly string[]): Map<string, string> {
  const taken = new Set<number>();
  for (const a of declared) {
    const ip = a.split('/')[0]!;
    if (isIPv4(ip) && ip.startsWith('198.19.')) taken.add(slotOf(ip));
  }
  const out = new Map<string, string>();
  for (const h of [...new Set(hostnames)].sort()) {
    let slot = fnv1a(h) % SLOTS;
    while (taken.has(slot)) slot = (slot + 1) % SLOTS;
    taken.add(slot);
    out.set(h, addressOf(slot));
  }
  return out;
}

// Third octet 0-255, fourth 1-254: no address ends in .0 or .255.
const SLOTS = 256 * 254;

function addressOf(slot: number): string {
  return `198.19.${Math.floor(slot / 254)}.${(slot % 254) + 1}`;
}

function slotOf(ip: string): number {
  const [, , c, d] = ip.split('.').map(Number) as [number, number, number, number];
  return d >= 1 && d <= 254 ? c * 254 + d - 1 : -1;
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
