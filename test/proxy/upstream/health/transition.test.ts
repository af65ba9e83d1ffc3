import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INITIAL_SESSION, onCheckFailure, onCheckSuccess, onPassiveFailure, type FailureType, type SessionState } from '../../../../src/proxy/upstream/health/transition.js';
import type { HealthTransition } from '../../../../src/proxy/upstream/health/interval.js';

type Result = 'pass' | FailureType | 'retriable' | 'passive';
const t = { healthyThreshold: 3, unhealthyThreshold: 2 };

/** Runs results from the initial state; returns [passed, transition] after each. */
function run(results: Result[]): [boolean, HealthTransition][] {
  let s: SessionState = INITIAL_SESSION;
  return results.map((r) => {
    const step = r === 'pass' ? onCheckSuccess(s, t) : r === 'passive' ? onPassiveFailure(s) : onCheckFailure(s, r === 'retriable' ? 'active' : r, r === 'retriable', t);
    s = step.state;
    return [s.passed, step.transition];
  });
}

describe('active health check state machine (healthy_threshold 3, unhealthy_threshold 2)', () => {
  const table: [string, Result[], [boolean, HealthTransition][]][] = [
    ['the first pass makes a new host healthy at once', ['pass'], [[true, 'changed']]],
    ['a first failure leaves it failed', ['network'], [[false, 'unchanged']]],
    ['after that, healthy_threshold passes in a row', ['network', 'pass', 'pass', 'pass', 'pass'], [[false, 'unchanged'], [false, 'pending'], [false, 'pending'], [true, 'changed'], [true, 'unchanged']]],
    ['a failure restarts the count of passes', ['network', 'pass', 'pass', 'network', 'pass', 'pass', 'pass'], [[false, 'unchanged'], [false, 'pending'], [false, 'pending'], [false, 'unchanged'], [false, 'pending'], [false, 'pending'], [true, 'changed']]],
    ['network failures count to unhealthy_threshold', ['pass', 'network', 'network_timeout'], [[true, 'changed'], [true, 'pending'], [false, 'changed']]],
    ['a pass in between restarts the count', ['pass', 'network', 'pass', 'network', 'network'], [[true, 'changed'], [true, 'pending'], [true, 'unchanged'], [true, 'pending'], [false, 'changed']]],
    ['an active failure (bad status) fails the host at once', ['pass', 'active'], [[true, 'changed'], [false, 'changed']]],
    ['a retriable status counts like a network failure', ['pass', 'retriable', 'retriable'], [[true, 'changed'], [true, 'pending'], [false, 'changed']]],
    ['x-envoy-immediate-health-check-fail fails at once; healthy_threshold passes bring it back', ['pass', 'passive', 'pass', 'pass', 'pass'], [[true, 'changed'], [false, 'changed'], [false, 'pending'], [false, 'pending'], [true, 'changed']]],
    ['an immediate failure of a failed host restarts its count of passes', ['network', 'pass', 'passive', 'pass', 'pass', 'pass'], [[false, 'unchanged'], [false, 'pending'], [false, 'unchanged'], [false, 'pending'], [false, 'pending'], [true, 'changed']]],
  ];
  for (const [name, results, want] of table) it(name, () => assert.deepEqual(run(results), want));

  it('marks a failed host that last timed out (active_hc_timeout), and clears it on another failure', () => {
    let s = onCheckFailure(INITIAL_SESSION, 'network_timeout', false, t).state;
    assert.equal(s.timedOut, true);
    s = onCheckFailure(s, 'network', false, t).state;
    assert.equal(s.timedOut, false);
    s = onCheckFailure(s, 'network_timeout', false, t).state;
    // As Envoy: kept while passes are pending, cleared when the host turns healthy.
    s = onCheckSuccess(s, t).state;
    assert.equal(s.timedOut, true);
    s = onCheckSuccess(onCheckSuccess(s, t).state, t).state;
    assert.equal(s.passed, true);
    assert.equal(s.timedOut, false);
  });

  it('a healthy host that times out once (below the threshold) is not marked', () => {
    const s = onCheckFailure(onCheckSuccess(INITIAL_SESSION, t).state, 'network_timeout', false, t).state;
    assert.equal(s.passed, true);
    assert.equal(s.timedOut, false);
  });
});
