import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBootstrap } from '../../../src/envoy/bootstrap.js';
import { compileBootstrap } from '../../../src/proxy/config.js';
import type { NetworkLocalRateLimitConfig } from '../../../src/proxy/tcp/local-ratelimit.js';

// Filter chains: network filters before the terminal one, which must come last.
const NLRL = `
      - name: envoy.filters.network.local_ratelimit
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit
          stat_prefix: rl
          token_bucket: { max_tokens: 5, fill_interval: 1s }`;
const TCP = `
      - name: envoy.filters.network.tcp_proxy
        typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: t, cluster: app }`;

function bootstrap(filters: string): string {
  return `
static_resources:
  listeners:
  - name: l
    address: { socket_address: { address: 127.0.0.1, port_value: 1 } }
    filter_chains:
    - filters:${filters}
  clusters:
  - name: app
    type: STATIC
    load_assignment: { cluster_name: app, endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 2 } } } } ] } ] }
`;
}

async function compile(filters: string): Promise<ReturnType<typeof compileBootstrap>> {
  const loaded = await parseBootstrap(bootstrap(filters));
  return compileBootstrap(loaded.bootstrap, loaded.registry);
}

test('local_ratelimit filters come before the terminal filter, in order', async () => {
  const chain = (await compile(`${NLRL}${NLRL.replace('stat_prefix: rl', 'stat_prefix: rl2\n          share_key: k\n          runtime_enabled: { default_value: false }')}${TCP}`)).listeners[0]!.chains[0]!;
  assert.equal(chain.filter.kind, 'tcp_proxy');
  assert.deepEqual(chain.readFilters.map((f) => (f.kind === 'local_ratelimit' ? [f.config.statPrefix, f.config.enabled, f.config.bucketOwner] : [f.kind])), [
    ['rl', true, 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config'],
    ['rl2', false, 'share_key:k'],
  ]);
  const first = chain.readFilters[0]!;
  assert.ok(first.kind === 'local_ratelimit');
  assert.deepEqual(first.config.bucket, { maxTokens: 5, tokensPerFill: 1, fillIntervalMs: 1000 });
});

test('chain errors name the filter', async () => {
  const rows: [string, RegExp][] = [
    [NLRL, /filter_chains\[0\]\.filters\[0\]: envoy\.filters\.network\.local_ratelimit cannot be the last filter/],
    [`${TCP}${NLRL}`, /filter_chains\[0\]\.filters\[0\]: envoy\.filters\.network\.tcp_proxy is a terminal filter: it must be the last in the chain/],
    [`${NLRL.replace('fill_interval: 1s', 'fill_interval: 0.01s')}${TCP}`, /filters\[0\]\.typed_config\.token_bucket\.fill_interval: local rate limit token bucket fill timer must be >= 50ms/],
    [`${NLRL.replace('          token_bucket: { max_tokens: 5, fill_interval: 1s }', '')}${TCP}`, /filters\[0\]\.typed_config\.token_bucket: required/],
    [`${NLRL.replace('stat_prefix: rl', 'stat_prefix: rl\n          runtime_enabled: { runtime_key: k }')}${TCP}`, /filters\[0\]\.typed_config\.runtime_enabled\.default_value: required/],
    [' []', /filter_chains\[0\]\.filters: a terminal network filter/],
  ];
  for (const [filters, re] of rows) await assert.rejects(compile(filters), re, filters);
});
