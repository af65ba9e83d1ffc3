import type { Duration } from '@bufbuild/protobuf/wkt';

/** Duration → milliseconds; `undefined` stays undefined so callers can apply Envoy's defaults. */
export function durationMs(d: Duration | undefined): number | undefined {
  if (!d) return undefined;
  return Number(d.seconds) * 1000 + Math.floor(d.nanos / 1e6);
}
