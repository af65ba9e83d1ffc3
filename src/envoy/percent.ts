import { FractionalPercent_DenominatorType as Denominator, type FractionalPercent } from './generated/envoy/type/v3/percent_pb.js';
import type { RuntimeFractionalPercent } from './generated/envoy/config/core/v3/base_pb.js';
import { ConfigError } from './registry.js';

/** A FractionalPercent as numbers: numerator out of 100, 10000 or 1000000. */
export interface Fraction {
  readonly numerator: number;
  readonly denominator: number;
}

export const NEVER: Fraction = { numerator: 0, denominator: 100 };
export const ALWAYS: Fraction = { numerator: 100, denominator: 100 };

/** An unset FractionalPercent is 0/100, as in Envoy (a fault with no percentage never fires). */
export function compileFraction(fp: FractionalPercent | undefined, path: string): Fraction {
  if (!fp) return NEVER;
  const denominator = fp.denominator === Denominator.HUNDRED ? 100 : fp.denominator === Denominator.TEN_THOUSAND ? 10_000 : fp.denominator === Denominator.MILLION ? 1_000_000 : undefined;
  if (denominator === undefined) throw new ConfigError(`${path}.denominator`, `unknown value ${fp.denominator}`);
  return { numerator: fp.numerator, denominator };
}

/**
 * A RuntimeFractionalPercent without a runtime layer: tsmesh has none, so the value is always
 * `default_value` (the runtime_key is accepted and never looked up).
 */
export function compileRuntimeFraction(rfp: RuntimeFractionalPercent | undefined, path: string): Fraction | undefined {
  if (!rfp) return undefined;
  if (!rfp.defaultValue) throw new ConfigError(`${path}.default_value`, 'required');
  return compileFraction(rfp.defaultValue, `${path}.default_value`);
}

/**
 * Envoy's `evaluateFractionalPercent`: `random % denominator < numerator`, with `random` a
 * uniform [0, 1) here. A numerator at or above the denominator is always true.
 */
export function fractionHit(f: Fraction, random: number): boolean {
  if (f.numerator >= f.denominator) return true;
  if (f.numerator === 0) return false;
  return Math.floor(random * f.denominator) < f.numerator;
}

/** fractionHit, drawing a random number only when the fraction is neither 0 nor 100%. */
export function drawFraction(f: Fraction, random: () => number): boolean {
  if (f.numerator >= f.denominator) return true;
  if (f.numerator === 0) return false;
  return Math.floor(random() * f.denominator) < f.numerator;
}
