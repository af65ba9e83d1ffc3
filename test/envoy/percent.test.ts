import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { FractionalPercentSchema, FractionalPercent_DenominatorType as D } from '../../src/envoy/generated/envoy/type/v3/percent_pb.js';
import { RuntimeFractionalPercentSchema } from '../../src/envoy/generated/envoy/config/core/v3/base_pb.js';
import { compileFraction, compileRuntimeFraction, fractionHit } from '../../src/envoy/percent.js';

test('FractionalPercent compiles with its denominator; unset is 0%', () => {
  assert.deepEqual(compileFraction(undefined, 'p'), { numerator: 0, denominator: 100 });
  assert.deepEqual(compileFraction(create(FractionalPercentSchema, { numerator: 5 }), 'p'), { numerator: 5, denominator: 100 });
  assert.deepEqual(compileFraction(create(FractionalPercentSchema, { numerator: 5, denominator: D.TEN_THOUSAND }), 'p'), { numerator: 5, denominator: 10_000 });
  assert.deepEqual(compileFraction(create(FractionalPercentSchema, { numerator: 5, denominator: D.MILLION }), 'p'), { numerator: 5, denominator: 1_000_000 });
  assert.throws(() => compileFraction(create(FractionalPercentSchema, { numerator: 5, denominator: 7 as D }), 'x.percentage'), /x\.percentage\.denominator: unknown value 7/);
});

test('RuntimeFractionalPercent is its default_value (no runtime layer); default_value is required', () => {
  assert.equal(compileRuntimeFraction(undefined, 'p'), undefined);
  const rfp = create(RuntimeFractionalPercentSchema, { runtimeKey: 'k', defaultValue: create(FractionalPercentSchema, { numerator: 30 }) });
  assert.deepEqual(compileRuntimeFraction(rfp, 'p'), { numerator: 30, denominator: 100 });
  assert.throws(() => compileRuntimeFraction(create(RuntimeFractionalPercentSchema, { runtimeKey: 'k' }), 'f.filter_enabled'), /f\.filter_enabled\.default_value: required/);
});

test('fractionHit: random % denominator < numerator', () => {
  const rows: [num: number, den: number, random: number, hit: boolean][] = [
    [0, 100, 0, false],
    [100, 100, 0.999999, true],
    [150, 100, 0.5, true],
    [50, 100, 0.4999, true],
    [50, 100, 0.5, false],
    [1, 1_000_000, 0.0000009, true],
    [1, 1_000_000, 0.000001, false],
    [9999, 10_000, 0.9999, false],
  ];
  for (const [numerator, denominator, r, hit] of rows) assert.equal(fractionHit({ numerator, denominator }, r), hit, `${numerator}/${denominator} @ ${r}`);
});
