import { create } from '@bufbuild/protobuf';
import { DurationSchema, type Duration } from '@bufbuild/protobuf/wkt';
import { FractionalPercentSchema, FractionalPercent_DenominatorType, type FractionalPercent } from '../../envoy/generated/envoy/type/v3/percent_pb.js';

const UNIT_NS: Record<string, bigint> = { h: 3_600_000_000_000n, m: 60_000_000_000n, s: 1_000_000_000n, ms: 1_000_000n, us: 1_000n, 'µs': 1_000n, ns: 1n };

/**
 * An Istio duration ("1.5s", "100ms", "1h30m", as Go's time.ParseDuration) as a protobuf
 * Duration. Validation rejects malformed strings before translation; here one throws.
 */
export function duration(text: string): Duration {
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/gy;
  let total = 0n;
  let matched = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const [whole, num, unit] = m as unknown as [string, string, string];
    const [int, frac = ''] = num.split('.');
    const scale = UNIT_NS[unit]!;
    total += BigInt(int!) * scale + (frac ? (BigInt(frac) * scale) / 10n ** BigInt(frac.length) : 0n);
    matched += whole.length;
  }
  if (matched === 0 || matched !== text.length) throw new Error(`not a duration: ${JSON.stringify(text)}`);
  return ofNanos(total);
}

export function ofNanos(ns: bigint): Duration {
  return create(DurationSchema, { seconds: ns / 1_000_000_000n, nanos: Number(ns % 1_000_000_000n) });
}

export function seconds(s: number): Duration {
  return create(DurationSchema, { seconds: BigInt(s), nanos: 0 });
}

/** Whole seconds of an Istio duration (CORS max_age is a string of seconds). */
export function wholeSeconds(text: string): bigint {
  return duration(text).seconds;
}

/** Istio's translatePercentToFractionalPercent: value × 10000 per million. */
export function fractionOfPercent(value: number): FractionalPercent {
  return create(FractionalPercentSchema, { numerator: Math.round(value * 10_000), denominator: FractionalPercent_DenominatorType.MILLION });
}

export function hundredPercent(): FractionalPercent {
  return create(FractionalPercentSchema, { numerator: 100, denominator: FractionalPercent_DenominatorType.HUNDRED });
}
