/** `tsmesh control` flags of the sidecar injection webhook. */
import { one, int, UsageError, type ParsedArgs } from './args.js';
import { parseHostPort } from '../proxy/sidecar-bootstrap.js';
import type { WebhookConfig } from '../control/inject/start-webhook.js';

export const WEBHOOK_FLAGS = ['webhook-port', 'webhook-address', 'webhook-cert', 'webhook-key', 'inject-image', 'inject-xds'] as const;

export const WEBHOOK_USAGE = `      Sidecar injection webhook:
                 [--webhook-port 0] [--webhook-address 127.0.0.1] [--webhook-cert PEM --webhook-key PEM]
                 [--inject-image IMAGE] [--inject-xds HOST:PORT]
      --webhook-port P (15017 in a cluster; 0, the default, is off) serves the sidecar injection
      webhook over HTTPS at /inject; without --webhook-cert/--webhook-key its certificate is
      self-signed and kept in the data dir (\`tsmesh inject webhook-ca\` prints it).`;

/** The webhook's config, or undefined when --webhook-port is 0 / absent. */
export function webhookConfigFrom(a: ParsedArgs): WebhookConfig | undefined {
  const port = int(a, 'webhook-port', 0, 0, 65535);
  const given = WEBHOOK_FLAGS.filter((f) => f !== 'webhook-port' && a.flags.has(f));
  if (port === 0) {
    if (given.length) throw new UsageError(`control: --${given[0]} needs --webhook-port PORT`);
    return undefined;
  }
  const certFile = one(a, 'webhook-cert');
  const keyFile = one(a, 'webhook-key');
  if ((certFile === undefined) !== (keyFile === undefined)) throw new UsageError('control: --webhook-cert and --webhook-key go together');
  const image = one(a, 'inject-image');
  const xds = one(a, 'inject-xds');
  if (xds !== undefined && typeof parseHostPort(xds) === 'string') throw new UsageError(`--inject-xds: ${parseHostPort(xds) as string}`);
  const address = one(a, 'webhook-address');
  return {
    port,
    ...(address ? { address } : {}),
    ...(certFile && keyFile ? { certFile, keyFile } : {}),
    inject: { ...(image ? { image } : {}), ...(xds ? { xdsAddress: xds } : {}) },
  };
}
