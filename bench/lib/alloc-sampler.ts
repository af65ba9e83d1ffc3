/**
 * Loaded into the proxy under test with `node --import` (bench/telemetry-alloc.ts): switched by
 * SIGUSR2, the first signal starts a profile, the second stops it and writes it to
 * `$TSMESH_ALLOC_PROFILE.<n>.<kind>` (n = 1, 2, ...), the next starts again. The profile is
 * V8's sampling heap profiler counting objects that die young too (the proxy's garbage is
 * almost all young; kind `heapprofile`), or with TSMESH_PROFILE_KIND=cpu the CPU profiler
 * (`cpuprofile`): both only over the measured load, without start-up and warm-up. A
 * diagnostic, never loaded by the proxy itself.
 */
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';

const out = process.env['TSMESH_ALLOC_PROFILE'];
const cpu = process.env['TSMESH_PROFILE_KIND'] === 'cpu';
if (out) {
  const session = new Session();
  session.connect();
  let sampling = false;
  let n = 0;
  const write = (kind: string) => (err: Error | null, r: { profile: unknown }): void => {
    // Written last: the driver waits for the file to exist and parse.
    writeFileSync(`${out}.${++n}.${kind}`, err ? JSON.stringify({ error: err.message }) : JSON.stringify(r.profile));
  };
  process.on('SIGUSR2', () => {
    if (!sampling) {
      sampling = true;
      if (cpu) { session.post('Profiler.enable'); session.post('Profiler.start'); } else session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
      return;
    }
    sampling = false;
    if (cpu) session.post('Profiler.stop', write('cpuprofile'));
    else session.post('HeapProfiler.stopSampling', write('heapprofile'));
  });
}
