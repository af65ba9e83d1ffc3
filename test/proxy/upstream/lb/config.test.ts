import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, type JsonValue } from '@bufbuild/protobuf';
import { ClusterSchema, LoadBalancingPolicySchema } from '../../../../src/envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { ConfigError } from '../../../../src/envoy/registry.js';
import {
  LeastRequestLoadBalancer, MaglevLoadBalancer, RandomLoadBalancer, RingHashLoadBalancer, RoundRobinLoadBalancer,
  compileLbPolicy, createLoadBalancer, isPrime, type LbPolicySpec,
} from '../../../../src/proxy/upstream/lb/index.js';
import { cluster, equalHosts, makeHosts, seeded } from './fixtures.js';

describe('compileLbPolicy / createLoadBalancer: policies and defaults', () => {
  const cases: { name: string; json: Record<string, JsonValue>; spec: LbPolicySpec; type: abstract new (...args: never[]) => unknown }[] = [
    { name: 'no lb_policy: ROUND_ROBIN', json: {}, spec: { kind: 'ROUND_ROBIN' }, type: RoundRobinLoadBalancer },
    { name: 'ROUND_ROBIN with an empty round_robin_lb_config', json: { lb_policy: 'ROUND_ROBIN', round_robin_lb_config: {} }, spec: { kind: 'ROUND_ROBIN' }, type: RoundRobinLoadBalancer },
    { name: 'LEAST_REQUEST defaults', json: { lb_policy: 'LEAST_REQUEST' }, spec: { kind: 'LEAST_REQUEST', choiceCount: 2, activeRequestBias: 1 }, type: LeastRequestLoadBalancer },
    {
      name: 'LEAST_REQUEST configured',
      json: { lb_policy: 'LEAST_REQUEST', least_request_lb_config: { choice_count: 5, active_request_bias: { default_value: 0.5, runtime_key: 'lr.bias' } } },
      spec: { kind: 'LEAST_REQUEST', choiceCount: 5, activeRequestBias: 0.5 }, type: LeastRequestLoadBalancer,
    },
    { name: 'RANDOM', json: { lb_policy: 'RANDOM' }, spec: { kind: 'RANDOM' }, type: RandomLoadBalancer },
    { name: 'RING_HASH defaults', json: { lb_policy: 'RING_HASH' }, spec: { kind: 'RING_HASH', minRingSize: 1024, maxRingSize: 8388608, hashFunction: 'XX_HASH' }, type: RingHashLoadBalancer },
    {
      name: 'RING_HASH configured',
      json: { lb_policy: 'RING_HASH', ring_hash_lb_config: { minimum_ring_size: '64', maximum_ring_size: 128, hash_function: 'MURMUR_HASH_2' } },
      spec: { kind: 'RING_HASH', minRingSize: 64, maxRingSize: 128, hashFunction: 'MURMUR_HASH_2' }, type: RingHashLoadBalancer,
    },
    { name: 'MAGLEV defaults', json: { lb_policy: 'MAGLEV' }, spec: { kind: 'MAGLEV', tableSize: 65537 }, type: MaglevLoadBalancer },
    { name: 'MAGLEV configured', json: { lb_policy: 'MAGLEV', maglev_lb_config: { table_size: 17 } }, spec: { kind: 'MAGLEV', tableSize: 17 }, type: MaglevLoadBalancer },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const cl = cluster(c.json);
      assert.deepEqual(compileLbPolicy(cl), c.spec);
      const lb = createLoadBalancer(cl, equalHosts(3));
      assert.ok(lb instanceof c.type);
      assert.ok(lb.pick({ hash: 12345n, random: seeded(1) }));
    });
  }

  it('accepts the largest Maglev table, 5000011', () => {
    assert.deepEqual(compileLbPolicy(cluster({ lb_policy: 'MAGLEV', maglev_lb_config: { table_size: 5000011 } })), { kind: 'MAGLEV', tableSize: 5000011 });
  });

  it('the ring built from config follows its sizes', () => {
    const lb = createLoadBalancer(cluster({ lb_policy: 'RING_HASH', ring_hash_lb_config: { minimum_ring_size: 6, maximum_ring_size: 6 } }), equalHosts(4));
    assert.ok(lb instanceof RingHashLoadBalancer);
    assert.deepEqual(lb.stats, { size: 6, minHashesPerHost: 1, maxHashesPerHost: 2 });
  });

  it('keeps its own copy of the host list', () => {
    const hosts = equalHosts(2);
    const lb = createLoadBalancer(cluster({}), hosts);
    hosts.length = 0;
    assert.ok(lb.pick({ random: seeded(1) }));
  });

  it('no hosts: every policy returns undefined', () => {
    for (const p of ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'RING_HASH', 'MAGLEV']) {
      assert.equal(createLoadBalancer(cluster({ lb_policy: p }), []).pick({ hash: 1n, random: seeded(1) }), undefined, p);
    }
  });

  it('rejects a host weight below 1', () => {
    assert.throws(() => createLoadBalancer(cluster({}), makeHosts([1, 0])), RangeError);
  });
});

describe('compileLbPolicy: invalid config names the field', () => {
  const cases: { name: string; json: Record<string, JsonValue>; path: string; reason?: RegExp }[] = [
    { name: 'maglev table_size not prime', json: { lb_policy: 'MAGLEV', maglev_lb_config: { table_size: 65536 } }, path: 'clusters[0].maglev_lb_config.table_size', reason: /prime/ },
    { name: 'maglev table_size above 5000011', json: { lb_policy: 'MAGLEV', maglev_lb_config: { table_size: 5000021 } }, path: 'clusters[0].maglev_lb_config.table_size', reason: /5000011/ },
    { name: 'maglev table_size 1', json: { lb_policy: 'MAGLEV', maglev_lb_config: { table_size: 1 } }, path: 'clusters[0].maglev_lb_config.table_size' },
    {
      name: 'ring minimum > maximum', json: { lb_policy: 'RING_HASH', ring_hash_lb_config: { minimum_ring_size: 20, maximum_ring_size: 10 } },
      path: 'clusters[0].ring_hash_lb_config.minimum_ring_size', reason: /minimum_ring_size \(20\) > maximum_ring_size \(10\)/,
    },
    { name: 'ring minimum > default maximum', json: { lb_policy: 'RING_HASH', ring_hash_lb_config: { minimum_ring_size: 8388609 } }, path: 'clusters[0].ring_hash_lb_config.minimum_ring_size' },
    { name: 'ring maximum above 8M', json: { lb_policy: 'RING_HASH', ring_hash_lb_config: { maximum_ring_size: 8388609 } }, path: 'clusters[0].ring_hash_lb_config.maximum_ring_size' },
    { name: 'ring minimum 0', json: { lb_policy: 'RING_HASH', ring_hash_lb_config: { minimum_ring_size: 0 } }, path: 'clusters[0].ring_hash_lb_config.minimum_ring_size' },
    { name: 'choice_count 1', json: { lb_policy: 'LEAST_REQUEST', least_request_lb_config: { choice_count: 1 } }, path: 'clusters[0].least_request_lb_config.choice_count' },
    {
      name: 'negative active_request_bias', json: { lb_policy: 'LEAST_REQUEST', least_request_lb_config: { active_request_bias: { default_value: -1, runtime_key: 'k' } } },
      path: 'clusters[0].least_request_lb_config.active_request_bias.default_value',
    },
    { name: 'slow start (least request)', json: { lb_policy: 'LEAST_REQUEST', least_request_lb_config: { slow_start_config: {} } }, path: 'clusters[0].least_request_lb_config.slow_start_config' },
    { name: 'slow start (round robin)', json: { round_robin_lb_config: { slow_start_config: {} } }, path: 'clusters[0].round_robin_lb_config.slow_start_config' },
    { name: 'ring_hash_lb_config without RING_HASH', json: { lb_policy: 'MAGLEV', ring_hash_lb_config: {} }, path: 'clusters[0].ring_hash_lb_config', reason: /MAGLEV/ },
    { name: 'maglev_lb_config without MAGLEV', json: { maglev_lb_config: {} }, path: 'clusters[0].maglev_lb_config' },
    { name: 'least_request_lb_config with RANDOM', json: { lb_policy: 'RANDOM', least_request_lb_config: {} }, path: 'clusters[0].least_request_lb_config' },
    { name: 'original_dst_lb_config', json: { original_dst_lb_config: {} }, path: 'clusters[0].original_dst_lb_config' },
    { name: 'CLUSTER_PROVIDED', json: { lb_policy: 'CLUSTER_PROVIDED' }, path: 'clusters[0].lb_policy', reason: /CLUSTER_PROVIDED/ },
    { name: 'LOAD_BALANCING_POLICY_CONFIG', json: { lb_policy: 'LOAD_BALANCING_POLICY_CONFIG' }, path: 'clusters[0].lb_policy' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.throws(() => compileLbPolicy(cluster(c.json), 'clusters[0]'), (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e));
        assert.equal(e.path, c.path);
        assert.equal(e.code, 'TSMESH_BAD_CONFIG');
        if (c.reason) assert.match(e.reason, c.reason);
        return true;
      });
    });
  }

  it('load_balancing_policy (typed policies) is refused', () => {
    const cl = create(ClusterSchema, { name: 'c', loadBalancingPolicy: create(LoadBalancingPolicySchema, {}) });
    assert.throws(() => compileLbPolicy(cl, 'clusters[0]'), (e: unknown) => e instanceof ConfigError && e.path === 'clusters[0].load_balancing_policy');
  });

  it('createLoadBalancer throws the same error, naming the cluster', () => {
    assert.throws(() => createLoadBalancer(cluster({ name: 'web', lb_policy: 'MAGLEV', maglev_lb_config: { table_size: 8 } }), equalHosts(1)),
      (e: unknown) => e instanceof ConfigError && e.path === "cluster 'web'.maglev_lb_config.table_size");
  });
});

describe('isPrime', () => {
  const cases: [number, boolean][] = [[0, false], [1, false], [2, true], [3, true], [4, false], [7, true], [9, false], [65537, true], [65536, false], [5000011, true], [5000013, false], [2.5, false]];
  for (const [n, want] of cases) it(`${n}`, () => assert.equal(isPrime(n), want));
});
