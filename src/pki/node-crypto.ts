import { createRequire } from 'node:module';
import type * as Crypto from 'node:crypto';

/*
 * node:crypto, loaded by its first use rather than at start-up: loading it initializes
 * OpenSSL (and imported as an ES module it loads WebCrypto too), ~0.8 MiB of a proxy's idle
 * RSS that a proxy without TLS, a client-certificate hash or a join token never needs. The
 * proxy's request IDs come from the kernel's CSPRNG directly (http/conn-manager/request-id.ts).
 */
let mod: typeof Crypto | undefined;

export function nodeCrypto(): typeof Crypto {
  return (mod ??= createRequire(import.meta.url)('node:crypto') as typeof Crypto);
}
