import { isIP } from 'node:net';
import type { HeaderMap } from '../headers.js';
import type { HcmConfig } from './config.js';

/** A downstream address: the one the connection manager trusts as the client's. */
export interface DownstreamAddress {
  readonly address: string;
  /** The peer's port, or 0 when the address came from x-forwarded-for (as Envoy prints it). */
  readonly port: number;
}

/**
 * Envoy's Utility::getLastAddressFromXFF: the address `skip` entries from the end of
 * x-forwarded-for (repeated headers count as one comma-joined list), when it is an IP address.
 */
export function lastAddressFromXff(xff: string | undefined, skip: number): string | undefined {
  if (xff === undefined) return undefined;
  let s = xff;
  for (let i = 0; i < skip; i++) {
    const comma = s.lastIndexOf(',');
    if (comma < 0) return undefined;
    s = s.slice(0, comma);
  }
  const comma = s.lastIndexOf(',');
  const candidate = (comma >= 0 ? s.slice(comma + 1) : s).trim();
  return isIP(candidate) !== 0 ? candidate : undefined;
}

/**
 * The downstream remote address as Envoy's connection manager computes it
 * (ConnectionManagerUtility::mutateRequestHeaders), before it appends to x-forwarded-for:
 * - use_remote_address: the peer of the connection, unless xff_num_trusted_hops trusted proxies
 *   are in front, in which case the x-forwarded-for entry they vouch for (hops - 1 from the end);
 * - otherwise the x-forwarded-for entry xff_num_trusted_hops from the end (the original IP
 *   detection Envoy applies by default), or the peer when there is none.
 * Rate limit descriptors (remote_address), hash policies (source_ip) and the access log's
 * DOWNSTREAM_REMOTE_ADDRESS use it.
 */
export function downstreamRemoteAddress(cfg: Pick<HcmConfig, 'useRemoteAddress' | 'xffNumTrustedHops'>, peer: DownstreamAddress, headers: HeaderMap): DownstreamAddress {
  const hops = cfg.xffNumTrustedHops;
  if (cfg.useRemoteAddress && hops === 0) return peer;
  if (!headers.has('x-forwarded-for')) return peer; // the common case, without getAll's array
  const xff = headers.getAll('x-forwarded-for');
  if (xff.length === 0) return peer;
  const found = lastAddressFromXff(xff.join(','), cfg.useRemoteAddress ? hops - 1 : hops);
  return found === undefined ? peer : { address: found, port: 0 };
}
