/** The flags of `tsmesh proxy`, for the parser in args.ts. */
export const PROXY_ARGS = { values: ['config-path', 'concurrency', 'log-level', 'base-id', 'drain-time-s'], booleans: ['validate'], short: { c: 'config-path' } } as const;
