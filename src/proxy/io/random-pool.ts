import { closeSync, openSync, readSync } from 'node:fs';
import { nodeCrypto } from '../../pki/node-crypto.js';

/*
 * The request path's random bytes (x-request-id UUIDs, the seed of the trace id generator),
 * drawn from the kernel's CSPRNG in batches so that a request costs no system call. From
 * /dev/urandom (the source OpenSSL seeds from) rather than node:crypto, whose loading
 * (OpenSSL's initialization) would cost a proxy without TLS ~0.8 MiB of RSS from its first
 * request on; node:crypto where there is no /dev/urandom.
 */

const SIZE = 8192;

/** The pool; a caller reads the `n` bytes at takeRandom(n)'s offset before it takes more. */
export const randomPool = Buffer.allocUnsafe(SIZE);
let at = SIZE;
let urandom: number | undefined;

function fill(): void {
  if (urandom === undefined) {
    try { urandom = openSync('/dev/urandom', 'r'); } catch { urandom = -1; }
  }
  if (urandom >= 0) {
    try {
      // Reads over 256 bytes may come back short (a signal): read until full.
      for (let off = 0; off < SIZE;) off += readSync(urandom, randomPool, off, SIZE - off, null);
      return;
    } catch {
      try { closeSync(urandom); } catch { /* already closed */ }
      urandom = -1;
    }
  }
  nodeCrypto().randomFillSync(randomPool);
}

/** The offset in `randomPool` of `n` (at most 256) fresh random bytes, each handed out once. */
export function takeRandom(n: number): number {
  if (at + n > SIZE) { fill(); at = 0; }
  const o = at;
  at += n;
  return o;
}
