import { closeSync, openSync, readSync } from 'node:fs';
import { nodeCrypto } from '../../../pki/node-crypto.js';

/** UUIDs made from one fill of the random pool. */
const BATCH = 256;
const pool = Buffer.allocUnsafe(16 * BATCH);
let next = BATCH;
const text = Buffer.allocUnsafe(36);
const HEX = Buffer.from('0123456789abcdef', 'latin1');

let urandom: number | undefined;

/**
 * Fills the pool from the kernel's CSPRNG (/dev/urandom, the source OpenSSL seeds from), not
 * through node:crypto, whose loading (OpenSSL's initialization) would cost a proxy without TLS
 * ~0.8 MiB of RSS from its first request on; node:crypto where there is no /dev/urandom.
 */
function fillPool(): void {
  if (urandom === undefined) {
    try { urandom = openSync('/dev/urandom', 'r'); } catch { urandom = -1; }
  }
  if (urandom >= 0) {
    try {
      // Reads over 256 bytes may come back short (a signal): read until full.
      for (let off = 0; off < pool.length;) off += readSync(urandom, pool, off, pool.length - off, null);
      return;
    } catch {
      try { closeSync(urandom); } catch { /* already closed */ }
      urandom = -1;
    }
  }
  nodeCrypto().randomFillSync(pool);
}

/**
 * A random (version 4) UUID for x-request-id, as Envoy generates one per request. From the
 * CSPRNG, as `crypto.randomUUID()`, drawn in batches, and formatted into one reused buffer and
 * read out as one string: randomUUID() allocated ~0.6 KB per call on the request path.
 */
export function newRequestId(): string {
  if (next === BATCH) { fillPool(); next = 0; }
  const o = 16 * next++;
  pool[o + 6] = (pool[o + 6]! & 0x0f) | 0x40; // version 4
  pool[o + 8] = (pool[o + 8]! & 0x3f) | 0x80; // RFC 4122 variant
  let j = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[j++] = 0x2d; // '-'
    const b = pool[o + i]!;
    text[j++] = HEX[b >> 4]!;
    text[j++] = HEX[b & 15]!;
  }
  return text.toString('latin1', 0, 36);
}
