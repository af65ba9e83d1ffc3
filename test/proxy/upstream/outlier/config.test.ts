import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { OutlierDetectionSchema } from '../../../../src/envoy/generated/envoy/config/cluster/v3/outlier_detection_pb.js';
import { compileOutlierDetection } from '../../../../src/proxy/upstream/outlier/config.js';

const compile = (json: JsonValue) => compileOutlierDetection(fromJson(OutlierDetectionSchema, json), 'od');

describe('compileOutlierDetection', () => {
  it("Envoy's defaults", () => {
    const s = compile({});
    assert.equal(s.intervalMs, 10_000);
    assert.equal(s.baseEjectionTimeMs, 30_000);
    assert.equal(s.maxEjectionTimeMs, 300_000);
    assert.equal(s.maxEjectionTimeJitterMs, 0);
    assert.equal(s.maxEjectionPercent, 10);
    assert.equal(s.consecutive5xx, 5);
    assert.equal(s.consecutiveGatewayFailure, 5);
    assert.equal(s.consecutiveLocalOriginFailure, 5);
    assert.equal(s.splitExternalLocalOriginErrors, false);
    assert.equal(s.successRateMinimumHosts, 5);
    assert.equal(s.successRateRequestVolume, 100);
    assert.equal(s.successRateStdevFactor, 1.9);
    assert.equal(s.failurePercentageThreshold, 85);
    assert.equal(s.failurePercentageMinimumHosts, 5);
    assert.equal(s.failurePercentageRequestVolume, 50);
    assert.deepEqual(s.enforcing, {
      consecutive_5xx: 100, consecutive_gateway_failure: 0, consecutive_local_origin_failure: 100, success_rate: 100,
      local_origin_success_rate: 100, failure_percentage: 0, local_origin_failure_percentage: 0,
    });
    assert.equal(s.successfulActiveHealthCheckUnejectHost, true);
    assert.equal(s.alwaysEjectOneHost, false);
  });

  it('an unset max_ejection_time follows a base_ejection_time above 300 s', () => {
    assert.equal(compile({ base_ejection_time: '400s' }).maxEjectionTimeMs, 400_000);
  });

  const bad: [string, JsonValue, RegExp][] = [
    ['max below base', { base_ejection_time: '10s', max_ejection_time: '5s' }, /od\.max_ejection_time: outlier detector's max_ejection_time cannot be smaller than base_ejection_time/],
    ['a zero interval', { interval: '0s' }, /od\.interval: must be > 0/],
    ['a zero base_ejection_time', { base_ejection_time: '0s' }, /od\.base_ejection_time/],
    ['a percent over 100', { max_ejection_percent: 101 }, /od\.max_ejection_percent: must be <= 100/],
    ['an enforcing over 100', { enforcing_consecutive_5xx: 150 }, /od\.enforcing_consecutive_5xx/],
    ['a failure percentage over 100', { failure_percentage_threshold: 101 }, /od\.failure_percentage_threshold/],
  ];
  for (const [name, json, want] of bad) it(`refuses ${name}`, () => assert.throws(() => compile(json), want));
});
