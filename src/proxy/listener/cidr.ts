import net from 'node:net';
import { ConfigError } from '../../envoy/registry.js';

/** An IPv4 or IPv6 prefix, compared as bytes. */
export class Cidr {
  readonly bytes: Buffer;
  constructor(readonly prefix: string, readonly len: number) {
    this.bytes = ipBytes(prefix)!;
  }

  static parse(prefix: string, len: number | undefined, path: string): Cidr {
    const b = ipBytes(prefix);
    if (!b) throw new ConfigError(`${path}.address_prefix`, `not an IP address: ${prefix}`);
    const l = len ?? b.length * 8;
    if (l < 0 || l > b.length * 8) throw new ConfigError(`${path}.prefix_len`, `expected 0-${b.length * 8}, got ${l}`);
    return new Cidr(prefix, l);
  }

  contains(ip: string): boolean {
    const b = ipBytes(ip);
    if (!b || b.length !== this.bytes.length) return false;
    let bits = this.len;
    for (let i = 0; bits > 0; i++, bits -= 8) {
      const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
      if ((b[i]! & mask) !== (this.bytes[i]! & mask)) return false;
    }
    return true;
  }
}

/** Address bytes; IPv4-mapped IPv6 (::ffff:a.b.c.d) is treated as IPv4 as the kernel reports it. */
export function ipBytes(ip: string): Buffer | undefined {
  if (ip.startsWith('::ffff:') && net.isIPv4(ip.slice(7))) ip = ip.slice(7);
  if (net.isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  if (!net.isIPv6(ip)) return undefined;
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const parse = (s: string | undefined): number[] => {
    if (!s) return [];
    const out: number[] = [];
    for (const part of s.split(':')) {
      if (part.includes('.')) { const v4 = part.split('.').map(Number); out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!); }
      else out.push(parseInt(part, 16));
    }
    return out;
  };
  const h = parse(head);
  const t = parse(tail);
  const groups = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(g, i * 2));
  return b;
}
