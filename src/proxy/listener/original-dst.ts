import { createRequire } from 'node:module';
import type net from 'node:net';

export interface SocketAddress {
  readonly address: string;
  readonly port: number;
}

/**
 * The address a connection was sent to before any redirection: with traffic capture (iptables
 * `REDIRECT` to the outbound or inbound port) the kernel's conntrack entry still knows it, and
 * `getsockopt(SO_ORIGINAL_DST)` reads it, as Envoy's original_dst listener filter does. A
 * connection that was not redirected (no NAT entry, HTTP proxy mode) has its local address as
 * its original destination. This is the one place that knows how.
 */
export function originalDestination(socket: net.Socket): SocketAddress {
  const local = { address: unmapped(socket.localAddress ?? ''), port: socket.localPort ?? 0 };
  const fd = socketFd(socket);
  if (fd === undefined) return local;
  return natDestination(fd, local.address.includes(':')) ?? local;
}

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) as `10.0.0.1`. */
export function unmapped(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

// Node keeps a TCP socket's descriptor on its libuv handle; nothing public exposes it.
function socketFd(socket: net.Socket): number | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

// linux/netfilter_ipv4.h SO_ORIGINAL_DST at SOL_IP; linux/netfilter_ipv6/ip6_tables.h
// IP6T_SO_ORIGINAL_DST (the same number) at SOL_IPV6.
const SOL_IP = 0, SOL_IPV6 = 41, SO_ORIGINAL_DST = 80;

type GetSockOpt = (fd: number, level: number, name: number, out: Buffer, len: number[]) => number;
let getsockopt: GetSockOpt | null | undefined;

/**
 * Loads libc's getsockopt through koffi on first use, so proxies without capture listeners
 * never load the FFI. null when it cannot be loaded (then nothing was redirected that we
 * could learn about, and the local address is the answer).
 */
function libcGetsockopt(): GetSockOpt | null {
  if (getsockopt !== undefined) return getsockopt;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    const fn = koffi.load('libc.so.6').func('int getsockopt(int, int, int, _Out_ void *, _Inout_ uint32_t *)');
    getsockopt = (fd, level, name, out, len) => fn(fd, level, name, out, len) as number;
  } catch {
    getsockopt = null;
  }
  return getsockopt;
}

/** The NAT original destination of the socket `fd`, undefined when it was not translated. */
function natDestination(fd: number, v6: boolean): SocketAddress | undefined {
  const call = libcGetsockopt();
  if (!call) return undefined;
  if (!v6) {
    const sa = Buffer.alloc(16);
    if (call(fd, SOL_IP, SO_ORIGINAL_DST, sa, [16]) !== 0) return undefined;
    return { address: `${sa[4]}.${sa[5]}.${sa[6]}.${sa[7]}`, port: sa.readUInt16BE(2) };
  }
  const sa6 = Buffer.alloc(28);
  if (call(fd, SOL_IPV6, SO_ORIGINAL_DST, sa6, [28]) !== 0) return undefined;
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(sa6.readUInt16BE(8 + i * 2).toString(16));
  return { address: unmapped(compressV6(groups)), port: sa6.readUInt16BE(2) };
}

/** Eight hex groups as the shortest RFC 5952 text (the longest run of zero groups as `::`). */
function compressV6(groups: string[]): string {
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}
