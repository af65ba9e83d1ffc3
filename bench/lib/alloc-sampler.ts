/**
 * Loaded into the proxy under test with `node --import` (bench/telemetry-alloc.ts): V8's
 * sampling heap profiler, counting objects that die young too (the proxy's garbage is almost
 * all young), switched by SIGUSR2: the first signal starts sampling, the second stops it and
 * writes the profile to `$TSMESH_ALLOC_PROFILE.<n>.heapprofile` (n = 1, 2, ...), then the next
 * signal starts again. A diagnostic, never loaded by the proxy itself.
 */
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';

const out = process.env['TSMESH_ALLOC_PROFILE'];
if (out) {
  const session = new Session();
  session.connect();
  let sampling = false;
  let n = 0;
  process.on('SIGUSR2', () => {
    if (!sampling) {
      sampling = true;
      session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
      return;
    }
    sampling = false;
    session.post('HeapProfiler.stopSampling', (err, r) => {
      const file = `${out}.${++n}.heapprofile`;
      // Written last: the driver waits for the file to exist.
      writeFileSync(file, err ? JSON.stringify({ error: err.message }) : JSON.stringify(r.profile));
    });
  });
}
