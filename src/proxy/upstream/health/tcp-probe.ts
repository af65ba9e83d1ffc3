/**
 * TCP health checks (Envoy's TcpHealthCheckerImpl): connect; write `send` if any; pass once
 * every `receive` block has arrived in order, or at once when nothing is expected.
 * With reuse_connection the connection stays open for the next check.
 */
import net from 'node:net';
import { OK, networkFailure, type Probe, type ProbeResult, type ProbeTarget } from './probe.js';
import { payloadMatches } from './payload.js';

export class TcpProbe implements Probe {
  #socket: net.Socket | undefined;
  #connected = false;
  #pending: ((r: ProbeResult) => void) | undefined;
  #received: Buffer[] = [];

  constructor(readonly target: ProbeTarget, readonly send: Buffer | undefined, readonly receive: readonly Buffer[], readonly reuse: boolean) {}

  check(): Promise<ProbeResult> {
    return new Promise((resolve) => {
      this.#pending = resolve;
      this.#received = [];
      const s = this.#socket;
      if (s && this.#connected && !s.destroyed) this.#onReady(s);
      else this.#connect();
    });
  }

  #connect(): void {
    const t = this.target.transport;
    const s = t ? t.connect(this.target.address, this.target.port) : net.connect({ host: this.target.address, port: this.target.port, noDelay: true });
    this.#socket = s;
    this.#connected = false;
    s.on(t ? t.readyEvent : 'connect', () => { this.#connected = true; this.#onReady(s); });
    s.on('data', (d: Buffer) => {
      if (!this.#pending) return;
      this.#received.push(d);
      if (payloadMatches(this.receive, Buffer.concat(this.#received))) this.#finish(OK);
    });
    s.on('error', () => { /* close follows */ });
    s.on('close', () => {
      if (this.#socket === s) this.#socket = undefined;
      this.#finish(networkFailure(this.#connected ? 'connection closed' : 'connect failed'));
    });
  }

  #onReady(s: net.Socket): void {
    if (this.send) s.write(this.send);
    if (this.receive.length === 0) this.#finish(OK);
  }

  #finish(r: ProbeResult): void {
    const p = this.#pending;
    if (!p) return;
    this.#pending = undefined;
    this.#received = [];
    if (!this.reuse) this.#drop();
    p(r);
  }

  #drop(): void {
    const s = this.#socket;
    this.#socket = undefined;
    s?.destroy();
  }

  abort(): void {
    this.#pending = undefined;
    this.#drop();
  }

  close(): void {
    this.abort();
  }
}
