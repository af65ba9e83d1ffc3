import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { FilterChainMatchSchema } from '../../../src/envoy/generated/envoy/config/listener/v3/listener_components_pb.js';
import { CidrRangeSchema } from '../../../src/envoy/generated/envoy/config/core/v3/address_pb.js';
import { compileMatch, selectFilterChain, matchKey, type ConnectionFacts } from '../../../src/proxy/listener/filter-chain-match.js';
import { ConfigError } from '../../../src/envoy/registry.js';

const cidr = (p: string, l: number) => create(CidrRangeSchema, { addressPrefix: p, prefixLen: l });
const chains = [
  /* 0 */ compileMatch(undefined, 'c0'),
  /* 1 */ compileMatch(create(FilterChainMatchSchema, { destinationPort: 8080 }), 'c1'),
  /* 2 */ compileMatch(create(FilterChainMatchSchema, { destinationPort: 8080, prefixRanges: [cidr('10.0.0.0', 8)] }), 'c2'),
  /* 3 */ compileMatch(create(FilterChainMatchSchema, { destinationPort: 8080, prefixRanges: [cidr('10.1.0.0', 16)] }), 'c3'),
  /* 4 */ compileMatch(create(FilterChainMatchSchema, { serverNames: ['api.example.com'], transportProtocol: 'tls' }), 'c4'),
  /* 5 */ compileMatch(create(FilterChainMatchSchema, { serverNames: ['*.example.com'], transportProtocol: 'tls' }), 'c5'),
  /* 6 */ compileMatch(create(FilterChainMatchSchema, { transportProtocol: 'tls' }), 'c6'),
  /* 7 */ compileMatch(create(FilterChainMatchSchema, { transportProtocol: 'tls', applicationProtocols: ['h2'], serverNames: ['h2.example.org'] }), 'c7'),
  /* 8 */ compileMatch(create(FilterChainMatchSchema, { transportProtocol: 'tls', serverNames: ['h2.example.org'] }), 'c8'),
  /* 9 */ compileMatch(create(FilterChainMatchSchema, { destinationPort: 9090, sourcePrefixRanges: [cidr('192.0.2.0', 24)] }), 'c9'),
  /* 10 */ compileMatch(create(FilterChainMatchSchema, { destinationPort: 9090, sourcePorts: [5555] }), 'c10'),
];

const base: ConnectionFacts = { destinationPort: 10000, destinationIp: '127.0.0.1', sourceIp: '127.0.0.1', sourcePort: 40000, transportProtocol: 'raw_buffer', serverName: '', applicationProtocols: [] };

const cases: [string, Partial<ConnectionFacts>, number][] = [
  ['nothing specific: catch-all', {}, 0],
  ['port match beats catch-all', { destinationPort: 8080 }, 1],
  ['longest destination prefix wins', { destinationPort: 8080, destinationIp: '10.1.2.3' }, 3],
  ['shorter prefix when the longer does not contain it', { destinationPort: 8080, destinationIp: '10.9.9.9' }, 2],
  ['port match with IP outside every prefix: the port-only chain', { destinationPort: 8080, destinationIp: '192.168.1.1' }, 1],
  ['exact SNI beats wildcard', { transportProtocol: 'tls', serverName: 'api.example.com' }, 4],
  ['wildcard SNI', { transportProtocol: 'tls', serverName: 'www.example.com' }, 5],
  ['TLS with unknown SNI: transport-only chain', { transportProtocol: 'tls', serverName: 'other.net' }, 6],
  ['ALPN match is more specific', { transportProtocol: 'tls', serverName: 'h2.example.org', applicationProtocols: ['h2', 'http/1.1'] }, 7],
  ['ALPN absent: the chain without ALPN', { transportProtocol: 'tls', serverName: 'h2.example.org', applicationProtocols: ['http/1.1'] }, 8],
  ['plaintext never picks TLS chains', { transportProtocol: 'raw_buffer', serverName: '' }, 0],
  ['source prefix', { destinationPort: 9090, sourceIp: '192.0.2.7' }, 9],
  ['source port', { destinationPort: 9090, sourcePort: 5555, sourceIp: '127.0.0.1' }, 10],
  ['port 9090 with nothing else matching: no chain', { destinationPort: 9090, sourcePort: 1, sourceIp: '127.0.0.1' }, -1],
];

for (const [name, facts, want] of cases) {
  test(`selectFilterChain: ${name}`, () => {
    assert.equal(selectFilterChain(chains, { ...base, ...facts }), want);
  });
}

test('compileMatch refuses bad values with the field path', () => {
  assert.throws(() => compileMatch(create(FilterChainMatchSchema, { destinationPort: 70000 }), 'l.filter_chain_match'), (e: unknown) => e instanceof ConfigError && e.path === 'l.filter_chain_match.destination_port');
  assert.throws(() => compileMatch(create(FilterChainMatchSchema, { prefixRanges: [cidr('10.0.0.0', 33)] }), 'm'), (e: unknown) => e instanceof ConfigError && e.path === 'm.prefix_ranges[0].prefix_len');
  assert.throws(() => compileMatch(create(FilterChainMatchSchema, { serverNames: ['a.*.com'] }), 'm'), (e: unknown) => e instanceof ConfigError && e.path === 'm.server_names[0]');
});

test('matchKey is equal for the same rules in any order', () => {
  const a = compileMatch(create(FilterChainMatchSchema, { serverNames: ['a', 'b'] }), 'a');
  const b = compileMatch(create(FilterChainMatchSchema, { serverNames: ['b', 'a'] }), 'b');
  assert.equal(matchKey(a), matchKey(b));
  assert.notEqual(matchKey(a), matchKey(chains[0]!));
});
