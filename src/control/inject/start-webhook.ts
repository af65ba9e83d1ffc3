/*
 * Wires the injection webhook into `tsmesh control`: the serving certificate (given, or
 * self-signed in DATA_DIR/webhook), the HTTPS server, and GET /api/v1/inject/webhook-ca on the
 * control plane's API so that the operator can fill the webhook configuration's caBundle.
 */
import { join } from 'node:path';
import type { ApiServer } from '../api/server.js';
import type { Logger } from '../log.js';
import { defaultInjectOptions, type InjectOptions } from './options.js';
import { readServingCert, selfSignedServingCert, type ServingCert } from './serving-cert.js';
import { InjectionWebhook, WEBHOOK_PATH } from './webhook.js';

export interface WebhookConfig {
  /** 0 picks a free port. */
  readonly port: number;
  /** Default 127.0.0.1; in a cluster 0.0.0.0 (the API server calls the pod's address). */
  readonly address?: string;
  /** A key pair to serve (PEM files); default a self-signed one kept in the data dir. */
  readonly certFile?: string;
  readonly keyFile?: string;
  /** Overrides of what is injected (image, xDS address, ...). */
  readonly inject?: Partial<InjectOptions>;
}

export interface RunningWebhook {
  readonly port: number;
  readonly address: string;
  readonly cert: ServingCert;
  close(): Promise<void>;
}

/** Starts the webhook; throws (with the reason) when the certificate or the port cannot be had. */
export async function startWebhook(cfg: WebhookConfig, ctx: { dataDir: string; log: Logger; api: ApiServer; version: string }): Promise<RunningWebhook> {
  if ((cfg.certFile === undefined) !== (cfg.keyFile === undefined)) throw new Error('--webhook-cert and --webhook-key go together');
  const cert = cfg.certFile && cfg.keyFile ? readServingCert(cfg.certFile, cfg.keyFile) : selfSignedServingCert(join(ctx.dataDir, 'webhook'));
  const inject = { ...defaultInjectOptions(ctx.version), ...cfg.inject };
  const server = new InjectionWebhook({ cert, inject, log: ctx.log });
  const address = cfg.address ?? '127.0.0.1';
  const port = await server.listen(cfg.port, address);
  ctx.api.route('GET', '/api/v1/inject/webhook-ca', () => ({ json: { pem: cert.certPem, caBundle: Buffer.from(cert.certPem).toString('base64'), path: WEBHOOK_PATH } }));
  ctx.log.info(`injection webhook on https://${address}:${port}${WEBHOOK_PATH} (sidecar image ${inject.image}, xDS ${inject.xdsAddress})`);
  return { port, address, cert, close: () => server.close() };
}
