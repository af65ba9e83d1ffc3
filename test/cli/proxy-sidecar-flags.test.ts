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

test('--token-file: the workload identity comes from the token; a bad token file is a usage error', async () => {
  const { generateKeyPairSync } = await import('node:crypto');
  const { createJoinToken, rootHashOf } = await import('../../src/pki/join-token.js');
  const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
  const now = Math.floor(Date.now() / 1000);
  const tok = (ttlSeconds: number, at = now) => createJoinToken({ namespace: 'shop', serviceAccount: 'cart', trustDomain: 'cluster.local', ttlSeconds, rootHash: rootHashOf(Uint8Array.of(1)), now: at }, key, 'k').token;
  const good = writeTemp('join.token', `${tok(600)}\n`);
  const r = await runCli(['proxy', '--xds', '127.0.0.1:15012', '--name', 'cart-1', '--token-file', good, '--print-bootstrap']);
  assert.equal(r.code, 0, r.stderr);
  const b = parse(r.stdout) as Record<string, any>;
  assert.equal(b.node.metadata.NAMESPACE, 'shop');
  assert.equal(b.node.metadata.SERVICE_ACCOUNT, 'cart');

  const cases: [string[], RegExp][] = [
    [['--token-file', '/nonexistent/token'], /--token-file: cannot read \/nonexistent\/token: ENOENT/],
    [['--token-file', writeTemp('junk.token', 'hello')], /not a join token: a join token has three dot-separated parts/],
    [['--token-file', writeTemp('old.token', tok(60, now - 3600))], /the token expired at .*tsmesh token create makes a new one/],
    [['--token-file', good, '--service-account', 'admin'], /the token is for namespace shop, service account cart; --namespace\/--service-account say shop\/admin/],
    [['--ca-address', '127.0.0.1:15012'], /--ca-address needs --token-file FILE/],
    [['--token-file', good, '--ca-address', 'nohost'], /--ca-address: expected HOST:PORT/],
    [['--token-file', good, '--workload-cert-ttl', 'soon'], /--workload-cert-ttl: expected a duration/],
  ];
  for (const [extra, want] of cases) {
    const e = await runCli(['proxy', '--xds', '127.0.0.1:15012', '--name', 'a', ...extra]);
    assert.equal(e.code, 2, `${extra.join(' ')}: ${e.stderr}`);
    assert.match(e.stderr, want, extra.join(' '));
  }
});
