import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, UsageError } from '../../src/cli/args.js';
import { PROXY_ARGS } from '../../src/cli/proxy-args.js';
import { metricsOptionsFrom } from '../../src/cli/metrics-flags.js';

const parse = (argv: string[], sidecar?: { ip: string }) => metricsOptionsFrom(parseArgs(argv, PROXY_ARGS), sidecar);

test('scrape-port flags: sidecar defaults, explicit ports, the merge port, refusals', () => {
  assert.deepEqual(parse([], { ip: '10.0.0.5' }), { address: '10.0.0.5', prometheusPort: 15090, prometheusRequired: false });
  assert.equal(parse([]), undefined, 'a bootstrap-file proxy has no scrape port unless asked');
  assert.equal(parse(['--prometheus-port', '0'], { ip: '127.0.0.1' }), undefined);
  assert.deepEqual(parse(['--prometheus-port', '9100']), { address: '127.0.0.1', prometheusPort: 9100, prometheusRequired: true });
  assert.deepEqual(parse(['--app-metrics', 'http://127.0.0.1:9102/metrics'], { ip: '127.0.0.1' }), {
    address: '127.0.0.1', prometheusPort: 15090, prometheusRequired: false, mergePort: 15020, appMetricsUrl: 'http://127.0.0.1:9102/metrics',
  });
  assert.deepEqual(parse(['--merge-metrics-port', '16020', '--prometheus-port', '0']), { address: '127.0.0.1', prometheusRequired: true, mergePort: 16020 });
  for (const [argv, re] of [
    [['--app-metrics', 'not a url'], /--app-metrics: expected an http:\/\/ URL/],
    [['--prometheus-port', '70000'], /--prometheus-port: expected an integer 0-65535/],
    [['--prometheus-port', '9000', '--merge-metrics-port', '9000'], /the same port as --prometheus-port/],
  ] as const) {
    assert.throws(() => parse([...argv]), (e: unknown) => e instanceof UsageError && re.test(e.message), argv.join(' '));
  }
});
