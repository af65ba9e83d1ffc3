import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RESPONSE_FLAG_NAMES, ResponseFlag, responseFlagBit, responseFlagsToLongString, responseFlagsToString,
} from '../../../src/proxy/admin/access-log/response-flags.js';

test('no flags print as -', () => {
  assert.equal(responseFlagsToString(0), '-');
  assert.equal(responseFlagsToLongString(0), '-');
});

test("several flags print in Envoy's order, whatever order they were set in", () => {
  const f = ResponseFlag.URX | ResponseFlag.UF | ResponseFlag.DC | ResponseFlag.UH;
  assert.equal(responseFlagsToString(f), 'UH,UF,DC,URX');
  assert.equal(responseFlagsToLongString(f), 'NoHealthyUpstream,UpstreamConnectionFailure,DownstreamConnectionTermination,UpstreamRetryLimitExceeded');
  assert.equal(responseFlagsToString(ResponseFlag.NC | ResponseFlag.NR), 'NR,NC');
  assert.equal(responseFlagsToString(ResponseFlag.UR | ResponseFlag.LR | ResponseFlag.UT), 'UT,LR,UR');
  assert.equal(responseFlagsToLongString(ResponseFlag.LR | ResponseFlag.UR | ResponseFlag.OM), 'LocalReset,UpstreamRemoteReset,OverloadManagerTerminated');
});

test("Envoy's full list, in its order (ResponseFlagFilter's allowed values)", () => {
  assert.deepEqual(RESPONSE_FLAG_NAMES, [
    'LH', 'UH', 'UT', 'LR', 'UR', 'UF', 'UC', 'UO', 'NR', 'DI', 'FI', 'RL', 'UAEX', 'RLSE', 'DC', 'URX', 'SI', 'IH', 'DPE',
    'UMSDR', 'RFCF', 'NFCF', 'DT', 'UPE', 'NC', 'OM', 'DF', 'DO', 'DR',
  ]);
  const all = RESPONSE_FLAG_NAMES.reduce((a, n) => a | ResponseFlag[n], 0);
  assert.equal(responseFlagsToString(all), RESPONSE_FLAG_NAMES.join(','));
  assert.equal(responseFlagBit('UPE'), ResponseFlag.UPE);
  assert.equal(responseFlagBit('XX'), undefined);
});
