import koffi from 'koffi';
import net from 'node:net';
import { ipBytes } from './cidr.js';

// Node 20 has no `reusePort` on net.Server (added in 22.12), and worker_threads cannot share a
// listening handle. So each worker opens its own SO_REUSEPORT socket through libc and hands the
// fd to net.Server; the kernel spreads connections across the workers, as Envoy's do.
const libc = koffi.load('libc.so.6');
const socketFn = libc.func('int socket(int, int, int)');
const setsockopt = libc.func('int setsockopt(int, int, int, void *, uint32_t)');
const bindFn = libc.func('int bind(int, void *, uint32_t)');
const listenFn = libc.func('int listen(int, int)');
const getsockname = libc.func('int getsockname(int, _Out_ void *, _Inout_ uint32_t *)');
const closeFn = libc.func('int close(int)');

const AF_INET = 2, AF_INET6 = 10, SOCK_STREAM = 1, SOCK_NONBLOCK = 0o4000, SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1, SO_REUSEADDR = 2, SO_REUSEPORT = 15, IPPROTO_IPV6 = 41, IPV6_V6ONLY = 26;

export class SocketError extends Error {
  constructor(readonly op: string, readonly errno: number, address: string, port: number) {
    super(`${op} ${address}:${port} failed: errno ${errno}${errno === 98 ? ' (address in use)' : errno === 13 ? ' (permission denied)' : ''}`);
  }
}

/** Opens a bound SO_REUSEPORT TCP socket; `listen` makes it accept. Returns the fd and port. */
export function bindReusePort(address: string, port: number, listen: boolean): { fd: number; port: number } {
  const v6 = net.isIPv6(address);
  const fd = socketFn(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) as number;
  if (fd < 0) throw new SocketError('socket', koffi.errno(), address, port);
  const one = Buffer.alloc(4);
  one.writeInt32LE(1);
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, one, 4);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, one, 4);
  if (v6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, one, 4);
  const sa = sockaddr(address, port);
  if ((bindFn(fd, sa, sa.length) as number) !== 0) {
    const e = koffi.errno();
    closeFn(fd);
    throw new SocketError('bind', e, address, port);
  }
  if (listen && (listenFn(fd, 511) as number) !== 0) {
    const e = koffi.errno();
    closeFn(fd);
    throw new SocketError('listen', e, address, port);
  }
  const out = Buffer.alloc(28);
  const len = [28];
  getsockname(fd, out, len);
  return { fd, port: out.readUInt16BE(2) };
}

export function closeFd(fd: number): void {
  closeFn(fd);
}

function sockaddr(address: string, port: number): Buffer {
  const bytes = ipBytes(address);
  if (!bytes) throw new Error(`not an IP address: ${address}`);
  if (bytes.length === 4) {
    const b = Buffer.alloc(16);
    b.writeUInt16LE(AF_INET, 0);
    b.writeUInt16BE(port, 2);
    bytes.copy(b, 4);
    return b;
  }
  const b = Buffer.alloc(28);
  b.writeUInt16LE(AF_INET6, 0);
  b.writeUInt16BE(port, 2);
  bytes.copy(b, 8);
  return b;
}
