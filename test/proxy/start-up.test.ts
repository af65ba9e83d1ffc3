import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JIT_AFTER_CPU_US, resumeCompilersWhenBusy, takeDeferredV8Flags, type CompilerSwitch } from '../../src/proxy/start-up.js';

test('takeDeferredV8Flags: only the compiler switches, once', () => {
  process.env['TSMESH_RESUME_V8_FLAGS'] = '--opt --sparkplug --expose-gc --no-such';
  assert.deepEqual(takeDeferredV8Flags(), ['--opt', '--sparkplug']);
  assert.equal(process.env['TSMESH_RESUME_V8_FLAGS'], undefined);
  assert.deepEqual(takeDeferredV8Flags(), []);
});

/** A CPU clock and an interval the test moves by hand. */
function fakeSwitch(): { sw: CompilerSwitch; set: string[]; burn(us: number): void; tick(): void; ticking(): boolean } {
  let cpu = 1_000_000;
  let fn: (() => void) | undefined;
  const set: string[] = [];
  return {
    sw: { cpuUs: () => cpu, every: (f) => { fn = f; return () => { fn = undefined; }; }, setFlag: (f) => set.push(f) },
    set,
    burn: (us) => { cpu += us; },
    tick: () => fn?.(),
    ticking: () => fn !== undefined,
  };
}

test('resumeCompilersWhenBusy: an idle proxy keeps the compilers off', () => {
  const f = fakeSwitch();
  resumeCompilersWhenBusy(['--opt', '--sparkplug'], f.sw);
  for (let i = 0; i < 100; i++) { f.burn(1000); f.tick(); } // 1 ms of CPU a second: health checks, scrapes
  assert.deepEqual(f.set, []);
  assert.ok(f.ticking());
});

test('resumeCompilersWhenBusy: the compilers come back once the proxy has used its CPU budget, once', () => {
  const f = fakeSwitch();
  resumeCompilersWhenBusy(['--opt', '--sparkplug'], f.sw);
  f.burn(JIT_AFTER_CPU_US - 1);
  f.tick();
  assert.deepEqual(f.set, []);
  f.burn(1);
  f.tick();
  assert.deepEqual(f.set, ['--opt', '--sparkplug']);
  assert.ok(!f.ticking());
});

test('resumeCompilersWhenBusy: nothing to resume, nothing scheduled', () => {
  const f = fakeSwitch();
  resumeCompilersWhenBusy([], f.sw);
  assert.ok(!f.ticking());
});
