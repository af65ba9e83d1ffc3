import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { RateLimitSchema } from '../../../../src/envoy/generated/envoy/config/route/v3/route_components_pb.js';
import { envoyRegistry } from '../../../../src/envoy/full-registry.js';
import { compileRateLimits, descriptorKey } from '../../../../src/proxy/http/route/rate-limits.js';
import { HeaderMap } from '../../../../src/proxy/http/headers.js';
import type { RouteRequest } from '../../../../src/proxy/http/route/request.js';

const compile = (list: JsonValue[]) => compileRateLimits(list.map((j) => fromJson(RateLimitSchema, j, { registry: envoyRegistry })), 'rate_limits');
const req = (headers: Record<string, string> = {}, path = '/p?tier=gold'): RouteRequest => ({ authority: 'svc', path, method: 'GET', headers: new HeaderMap(Object.entries(headers).flat()) });
const ctx = { remoteAddress: '10.1.2.3' };

test('descriptors are composed from the actions in order; any action that cannot produce drops the descriptor', () => {
  const rows: [JsonValue, RouteRequest, [string, string][] | undefined][] = [
    [{ actions: [{ genericKey: { descriptorValue: 'v' } }] }, req(), [['generic_key', 'v']]],
    [{ actions: [{ genericKey: { descriptorValue: 'v', descriptorKey: 'k' } }] }, req(), [['k', 'v']]],
    [{ actions: [{ remoteAddress: {} }] }, req(), [['remote_address', '10.1.2.3']]],
    [{ actions: [{ requestHeaders: { headerName: 'X-User', descriptorKey: 'user' } }] }, req({ 'x-user': 'ann' }), [['user', 'ann']]],
    [{ actions: [{ requestHeaders: { headerName: 'x-user', descriptorKey: 'user' } }] }, req(), undefined],
    [{ actions: [{ requestHeaders: { headerName: 'x-user', descriptorKey: 'user', skipIfAbsent: true } }, { genericKey: { descriptorValue: 'g' } }] }, req(), [['generic_key', 'g']]],
    [{ actions: [{ requestHeaders: { headerName: 'x-user', descriptorKey: 'user', skipIfAbsent: true } }] }, req(), undefined],
    [{ actions: [{ requestHeaders: { headerName: ':path', descriptorKey: 'path' } }] }, req(), [['path', '/p?tier=gold']]],
    [{ actions: [{ headerValueMatch: { descriptorValue: 'beta', headers: [{ name: 'x-beta', presentMatch: true }] } }] }, req({ 'x-beta': '1' }), [['header_match', 'beta']]],
    [{ actions: [{ headerValueMatch: { descriptorValue: 'beta', headers: [{ name: 'x-beta', presentMatch: true }] } }] }, req(), undefined],
    [{ actions: [{ headerValueMatch: { descriptorValue: 'nobeta', expectMatch: false, headers: [{ name: 'x-beta', presentMatch: true }] } }] }, req(), [['header_match', 'nobeta']]],
    [{ actions: [{ queryParameterValueMatch: { descriptorValue: 'gold', queryParameters: [{ name: 'tier', stringMatch: { exact: 'gold' } }] } }] }, req(), [['query_match', 'gold']]],
    [{ actions: [{ remoteAddress: {} }, { requestHeaders: { headerName: 'x-user', descriptorKey: 'user' } }] }, req({ 'x-user': 'bo' }), [['remote_address', '10.1.2.3'], ['user', 'bo']]],
  ];
  for (const [json, r, want] of rows) {
    const [rl] = compile([json]);
    assert.equal(rl!.descriptor(r, ctx), want && descriptorKey(want), JSON.stringify(json));
  }
  assert.equal(compile([{ actions: [{ remoteAddress: {} }] }])[0]!.descriptor(req(), { remoteAddress: '' }), undefined, 'no IP, no entry');
});

test('stage and disable_key are kept for the filter to select by', () => {
  const [a, b] = compile([{ stage: 3, actions: [{ remoteAddress: {} }] }, { disableKey: 'k', actions: [{ remoteAddress: {} }] }]);
  assert.deepEqual([a!.stage, a!.hasDisableKey, b!.stage, b!.hasDisableKey], [3, false, 0, true]);
});

test('rate_limits errors name the field; actions tsmesh cannot compute are refused', () => {
  const rows: [JsonValue, RegExp][] = [
    [{ stage: 11, actions: [{ remoteAddress: {} }] }, /rate_limits\[0\]\.stage: must be at most 10, got 11/],
    [{ actions: [] }, /rate_limits\[0\]\.actions: at least one action is required/],
    [{ actions: [{ sourceCluster: {} }] }, /rate_limits\[0\]\.actions\[0\]\.source_cluster: not supported by tsmesh/],
    [{ actions: [{ destinationCluster: {} }] }, /rate_limits\[0\]\.actions\[0\]\.destination_cluster: not supported by tsmesh/],
    [{ actions: [{ maskedRemoteAddress: {} }] }, /rate_limits\[0\]\.actions\[0\]\.masked_remote_address: not supported by tsmesh/],
    [{ actions: [{ genericKey: {} }] }, /rate_limits\[0\]\.actions\[0\]\.generic_key\.descriptor_value: must not be empty/],
    [{ actions: [{ requestHeaders: { descriptorKey: 'k' } }] }, /rate_limits\[0\]\.actions\[0\]\.request_headers\.header_name: must not be empty/],
    [{ actions: [{ headerValueMatch: { descriptorValue: 'v' } }] }, /rate_limits\[0\]\.actions\[0\]\.header_value_match\.headers: at least one header matcher is required/],
    [{ actions: [{ remoteAddress: {} }], limit: { dynamicMetadata: { metadataKey: { key: 'k', path: [{ key: 'a' }] } } } }, /rate_limits\[0\]\.limit: limit overrides are for the global rate limit service/],
  ];
  for (const [json, re] of rows) assert.throws(() => compile([json]), re, JSON.stringify(json));
});
