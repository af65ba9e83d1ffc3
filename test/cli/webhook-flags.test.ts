import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, UsageError } from '../../src/cli/args.js';
import { WEBHOOK_FLAGS, webhookConfigFrom } from '../../src/cli/webhook-flags.js';
import { tsmesh } from '../support/control.js';

const parse = (argv: string[]) => webhookConfigFrom(parseArgs(argv, { values: [...WEBHOOK_FLAGS], booleans: [] }));

test('the webhook is off unless --webhook-port is given', () => {
  assert.equal(parse([]), undefined);
  assert.equal(parse(['--webhook-port', '0']), undefined);
});

test('flags become the webhook config', () => {
  assert.deepEqual(parse(['--webhook-port', '15017', '--webhook-address', '0.0.0.0', '--webhook-cert', 'c.pem', '--webhook-key', 'k.pem', '--inject-image', 'r/tsmesh:1', '--inject-xds', 'tsmesh.mesh.svc:15010']), {
    port: 15017, address: '0.0.0.0', certFile: 'c.pem', keyFile: 'k.pem', inject: { image: 'r/tsmesh:1', xdsAddress: 'tsmesh.mesh.svc:15010' },
  });
});

test('combinations that cannot work are usage errors naming the flag', () => {
  const rows: [string[], RegExp][] = [
    [['--webhook-address', '0.0.0.0'], /--webhook-address needs --webhook-port PORT/],
    [['--webhook-port', '15017', '--webhook-cert', 'c.pem'], /--webhook-cert and --webhook-key go together/],
    [['--webhook-port', '15017', '--inject-xds', 'nope'], /--inject-xds: expected HOST:PORT/],
    [['--webhook-port', '70000'], /--webhook-port: expected an integer 0-65535/],
  ];
  for (const [argv, want] of rows) assert.throws(() => parse(argv), (e: Error) => e instanceof UsageError && want.test(e.message));
});

test('tsmesh control refuses them at start-up with exit code 2', async () => {
  const r = await tsmesh(['control', '--webhook-cert', 'c.pem']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--webhook-cert needs --webhook-port PORT/);
});
