import { createRequire } from 'node:module';
import type http2 from 'node:http2';
import type { ProbeTarget } from './probe.js';

/**
 * The cleartext HTTP/2 session an HTTP/2 or gRPC health check talks over: reused between
 * checks when `reuse_connection`, and reported when it goes away in the middle of a check.
 */
export class HealthSession {
  #current: http2.ClientHttp2Session | undefined;
  /** Set while a check waits on the session: its close fails that check. */
  onGone: (() => void) | undefined;

  constructor(readonly target: ProbeTarget) {}

  /** The reused session, or a new one. */
  get(): http2.ClientHttp2Session {
    let s = this.#current;
    if (!s || s.destroyed || s.closed) {
      const host = this.target.address.includes(':') ? `[${this.target.address}]` : this.target.address;
      // node:http2 (and the TLS code it pulls in) is loaded by the first HTTP/2 or gRPC health
      // check, not by every idle proxy.
      const t = this.target.transport;
      const { address, port } = this.target;
      s = (createRequire(import.meta.url)('node:http2') as typeof http2).connect(`http://${host}:${port}`, t ? { createConnection: () => t.connect(address, port, t.alpn.length ? undefined : ['h2']) } : {});
      const mine = s;
      s.on('error', () => { /* close follows */ });
      s.on('close', () => {
        if (this.#current !== mine) return;
        this.#current = undefined;
        this.onGone?.();
      });
      this.#current = s;
    }
    return s;
  }

  drop(): void {
    const s = this.#current;
    this.#current = undefined;
    s?.destroy();
  }

  abort(): void {
    this.onGone = undefined;
    this.drop();
  }
}
