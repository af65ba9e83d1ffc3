import { SIDECAR_BOOLEAN_FLAGS, SIDECAR_VALUE_FLAGS } from './sidecar-flags.js';
import { METRICS_VALUE_FLAGS } from './metrics-flags.js';

/** The flags of `tsmesh proxy` (bootstrap file or sidecar mode), for the parser in args.ts. */
export const PROXY_ARGS = {
  values: ['config-path', 'concurrency', 'log-level', 'base-id', 'drain-time-s', ...SIDECAR_VALUE_FLAGS, ...METRICS_VALUE_FLAGS],
  booleans: ['validate', ...SIDECAR_BOOLEAN_FLAGS],
  short: { c: 'config-path' },
} as const;
