import { Cidr } from '../listener/cidr.js';

/** `a.b.c.d` (or `::ffff:a.b.c.d`) as an unsigned 32-bit number, without allocating; -1 when not IPv4. */
export function ipv4Number(ip: string): number {
  let i = ip.charCodeAt(0) === 58 /* : */ && ip.startsWith('::ffff:') ? 7 : 0;
  let n = 0;
  let parts = 0;
  while (parts < 4) {
    let octet = 0;
    let digits = 0;
    for (; i < ip.length; i++) {
      const c = ip.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      octet = octet * 10 + c;
      if (++digits > 3) return -1;
    }
    if (digits === 0 || octet > 255) return -1;
    n = n * 256 + octet;
    parts++;
    if (parts < 4) {
      if (ip.charCodeAt(i) !== 46 /* . */) return -1;
      i++;
    }
  }
  return i === ip.length ? n : -1;
}

/**
 * A CIDR range tested many times per second against address strings: IPv4 ranges compare
 * numbers (no parsing into buffers on the request path); IPv6 ones use the listener's Cidr.
 */
export function cidrMatcher(c: Cidr): (ip: string) => boolean {
  if (c.bytes.length !== 4) return (ip) => c.contains(ip);
  const mask = c.len === 0 ? 0 : (0xffffffff << (32 - c.len)) >>> 0;
  const net = ((c.bytes[0]! << 24) | (c.bytes[1]! << 16) | (c.bytes[2]! << 8) | c.bytes[3]!) & mask;
  return (ip) => {
    const n = ipv4Number(ip);
    return n >= 0 && ((n & mask) >>> 0) === net >>> 0;
  };
}
