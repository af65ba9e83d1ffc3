import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { runCli, writeTemp } from '../support/proxy.js';

// The sidecar flags of `tsmesh proxy`, through the real executable.

test('--print-bootstrap prints the generated bootstrap as YAML and exits 0', async () => {
  const r = await runCli(['proxy', '--xds', '127.0.0.1:15010', '--name', 'reviews-v1', '--namespace', 'bookinfo', '--label', 'app=reviews', '--label', 'version=v1',
    '--service-account', 'bookinfo-reviews', '--app-port', '9080', '--outbound-port', '25001', '--inbound-port', '25006', '--admin-port', '25000', '--xds-api', 'delta', '--print-bootstrap']);
  assert.equal(r.code, 0, r.stderr);
  const b = parse(r.stdout) as Record<string, any>;
  assert.equal(b.node.id, 'sidecar~127.0.0.1~reviews-v1.bookinfo~bookinfo.svc.cluster.local');
  assert.deepEqual(b.node.metadata.LABELS, { app: 'reviews', version: 'v1' });
  assert.equal(b.node.metadata.SERVICE_ACCOUNT, 'bookinfo-reviews');
  assert.equal(b.node.metadata.TSMESH_OUTBOUND_PORT, '25001');
  assert.equal(b.node.metadata.TSMESH_INBOUND_PORT, '25006');
  assert.equal(b.node.metadata.TSMESH_APP_PORTS, '9080');
  assert.equal(b.admin.address.socket_address.port_value, 25000);
  assert.equal(b.dynamic_resources.ads_config.api_type, 'DELTA_GRPC');
  assert.equal(b.static_resources.clusters[0].name, 'xds-grpc');
});

test('the printed bootstrap is accepted by -c', async () => {
  const printed = await runCli(['proxy', '--xds', '127.0.0.1:15010', '--name', 'a', '--print-bootstrap']);
  assert.equal(printed.code, 0, printed.stderr);
  const r = await runCli(['proxy', '-c', writeTemp('sidecar.yaml', printed.stdout), '--validate']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /OK/);
});

test('usage errors name the problem and exit 2', async () => {
  const cases: [string[], RegExp][] = [
    [['proxy'], /-c BOOTSTRAP or --xds HOST:PORT is required/],
    [['proxy', '-c', 'x.yaml', '--xds', '127.0.0.1:15010', '--name', 'a'], /either -c BOOTSTRAP or --xds HOST:PORT, not both/],
    [['proxy', '-c', 'x.yaml', '--name', 'a'], /--name needs --xds HOST:PORT/],
    [['proxy', '--print-bootstrap'], /--print-bootstrap needs --xds/],
    [['proxy', '--xds', '127.0.0.1'], /--xds: expected HOST:PORT/],
    [['proxy', '--xds', '127.0.0.1:15010'], /--xds needs --name NAME/],
    [['proxy', '--xds', '127.0.0.1:15010', '--name', 'a', '--xds-api', 'rest'], /--xds-api: expected sotw or delta/],
    [['proxy', '--xds', '127.0.0.1:15010', '--name', 'a', '--label', 'app'], /--label: expected KEY=VALUE/],
    [['proxy', '--xds', '127.0.0.1:15010', '--name', 'a', '--label', 'app=not valid'], /--label app: "not valid" is not a valid label value/],
    [['proxy', '--xds', '127.0.0.1:15010', '--name', 'Bad_Name'], /--name: "Bad_Name" is not a DNS label/],
    [['proxy', '--xds', '127.0.0.1:15010', '--name', 'a', '--ip', 'localhost'], /--ip: expected an IP address/],
    [['proxy', '--xds', '127.0.0.1:15010', '--name', 'a', '--app-port', '70000'], /--app-port: expected an integer 1-65535/],
    [['proxy', '--xds', '127.0.0.1:15010', '--name', 'a', '--inbound-port', '15001'], /--inbound-port 15001: the same port as --outbound-port/],
  ];
  for (const [args, want] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, want, args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
  }
});

test('--xds without --print-bootstrap goes through the proxy start-up checks', async () => {
  const r = await runCli(['proxy', '--xds', '127.0.0.1:15010', '--name', 'a', '--validate']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /OK/);
});
