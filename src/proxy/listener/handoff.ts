import { isIP } from 'node:net';
import { ConfigError } from '../../envoy/registry.js';
import type { SocketAddress } from './original-dst.js';

interface Addressed {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly bindToPort: boolean;
}

/**
 * Where a listener with `use_original_dst` hands a connection whose original destination is
 * `dst`, as Envoy's `getBalancedHandlerByAddress`: the listener on exactly `dst` (bound or
 * `bind_to_port: false`), else the wildcard listener of dst's family on dst's port
 * (0.0.0.0 / ::), else none, and the receiving listener serves it on its own chains. Pure.
 */
export function handoffTarget<L extends Addressed>(listeners: readonly L[], dst: SocketAddress): L | undefined {
  let wildcard: L | undefined;
  const any = isIP(dst.address) === 6 ? '::' : '0.0.0.0';
  for (const l of listeners) {
    if (l.port !== dst.port) continue;
    if (l.address === dst.address) return l;
    if (l.address === any) wildcard = l;
  }
  return wildcard;
}

/**
 * Two listeners on one address are refused, also when they do not bind (Envoy does so too: which
 * of them a hand-off would pick is ambiguous). Bound listeners on port 0 get a port each.
 */
export function duplicateAddresses(listeners: readonly (Addressed | undefined)[], path: string): ConfigError[] {
  const seen = new Map<string, number>();
  const errors: ConfigError[] = [];
  listeners.forEach((l, i) => {
    if (!l || (l.bindToPort && l.port === 0)) return;
    const key = `${l.address}:${l.port}`;
    const prev = seen.get(key);
    if (prev !== undefined) errors.push(new ConfigError(`${path}[${i}].address`, `listener "${l.name}" has the same address ${key} as ${path}[${prev}]`));
    else seen.set(key, i);
  });
  return errors;
}
