/*
 * The injection webhook server (:15017, HTTPS): POST /inject with an AdmissionReview v1 as the
 * API server sends it, answered by admit() (admission.ts). Like Istio's injector: a body that
 * is not JSON, or not an AdmissionReview, is a 400 with the reason; a wrong Content-Type a 415.
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { admit } from './admission.js';
import type { InjectOptions } from './options.js';
import type { ServingCert } from './serving-cert.js';
import type { Logger } from '../log.js';

/** Istio's path for the injection webhook. */
export const WEBHOOK_PATH = '/inject';
const MAX_BODY = 8 << 20;

export interface WebhookOptions {
  readonly cert: ServingCert;
  readonly inject: InjectOptions;
  readonly log: Logger;
}

export class InjectionWebhook {
  readonly #server: https.Server;
  readonly #opts: WebhookOptions;

  constructor(opts: WebhookOptions) {
    this.#opts = opts;
    this.#server = https.createServer({ cert: opts.cert.certPem, key: opts.cert.keyPem, minVersion: 'TLSv1.2' }, (req, res) => this.#handle(req, res));
    this.#server.keepAliveTimeout = 30_000;
  }

  /** Listens; resolves to the bound port. */
  async listen(port: number, host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => { this.#server.off('error', reject); resolve(); });
    });
    return (this.#server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => { this.#server.close(() => resolve()); this.#server.closeAllConnections(); });
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path !== WEBHOOK_PATH) return plain(res, 404, `not found: the injection webhook is POST ${WEBHOOK_PATH}\n`);
    if (req.method !== 'POST') { res.setHeader('allow', 'POST'); return plain(res, 405, `method ${req.method} not allowed: POST an AdmissionReview\n`); }
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') { req.resume(); return plain(res, 415, `invalid Content-Type ${JSON.stringify(type)}, want application/json\n`); }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) { tooLarge = true; return; }
      chunks.push(c);
    });
    req.on('error', () => res.destroy());
    req.on('end', () => {
      if (tooLarge) return plain(res, 413, `body over ${MAX_BODY} bytes\n`);
      if (size === 0) return plain(res, 400, 'no body found: POST an AdmissionReview\n');
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch (e) {
        this.#opts.log.warn(`inject webhook: could not decode body: ${(e as Error).message}`);
        return plain(res, 400, `could not decode body: ${(e as Error).message}\n`);
      }
      let out;
      try {
        out = admit(body, this.#opts.inject);
      } catch (e) {
        this.#opts.log.error(`inject webhook: ${(e as Error).stack ?? String(e)}`);
        return plain(res, 500, 'internal error\n');
      }
      if (out.status === 400) {
        this.#opts.log.warn(`inject webhook: bad request: ${out.message}`);
        return plain(res, 400, `${out.message}\n`);
      }
      const r = out.review['response'] as { uid: string };
      this.#opts.log.info(`inject webhook: ${r.uid}: ${out.injected ? 'injected' : 'not injected'} (${out.note})`);
      const json = JSON.stringify(out.review);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
      res.end(json);
    });
  }
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
