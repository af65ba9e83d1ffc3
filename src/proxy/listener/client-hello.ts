/**
 * Reads SNI and ALPN from the first bytes of a TLS connection, as Envoy's tls_inspector does.
 * Pure: returns 'need-more' until a whole ClientHello record is there.
 */
export type HelloResult =
  | { kind: 'tls'; serverName: string; alpn: string[] }
  | { kind: 'not-tls' }
  | { kind: 'need-more' };

const MAX_HELLO = 64 * 1024;

export function parseClientHello(b: Buffer): HelloResult {
  if (b.length < 1) return { kind: 'need-more' };
  if (b[0] !== 0x16) return { kind: 'not-tls' };
  if (b.length < 5) return { kind: 'need-more' };
  if (b[1] !== 3) return { kind: 'not-tls' };
  const recLen = b.readUInt16BE(3);
  if (b.length < 5 + recLen) return b.length > MAX_HELLO ? { kind: 'not-tls' } : { kind: 'need-more' };
  const h = b.subarray(5, 5 + recLen);
  if (h[0] !== 0x01 || h.length < 4) return { kind: 'not-tls' };
  const helloLen = (h[1]! << 16) | (h[2]! << 8) | h[3]!;
  // A ClientHello split over several records is rare; treat what we have as the hello.
  const body = h.subarray(4, 4 + helloLen);
  try {
    let p = 2 + 32; // version, random
    p += 1 + body[p]!; // session id
    p += 2 + body.readUInt16BE(p); // cipher suites
    p += 1 + body[p]!; // compression methods
    let serverName = '';
    const alpn: string[] = [];
    if (p + 2 > body.length) return { kind: 'tls', serverName, alpn };
    const extEnd = p + 2 + body.readUInt16BE(p);
    p += 2;
    while (p + 4 <= extEnd && p + 4 <= body.length) {
      const type = body.readUInt16BE(p);
      const len = body.readUInt16BE(p + 2);
      const ext = body.subarray(p + 4, p + 4 + len);
      p += 4 + len;
      if (type === 0 && ext.length >= 5) {
        let q = 2;
        while (q + 3 <= ext.length) {
          const nameType = ext[q]!;
          const nameLen = ext.readUInt16BE(q + 1);
          if (nameType === 0) { serverName = ext.subarray(q + 3, q + 3 + nameLen).toString('latin1').toLowerCase(); break; }
          q += 3 + nameLen;
        }
      } else if (type === 16 && ext.length >= 2) {
        let q = 2;
        while (q < ext.length) {
          const l = ext[q]!;
          alpn.push(ext.subarray(q + 1, q + 1 + l).toString('latin1'));
          q += 1 + l;
        }
      }
    }
    return { kind: 'tls', serverName, alpn };
  } catch {
    return { kind: 'not-tls' };
  }
}
