/**
 * Parsing of wrk's text report (wrk 4.x with `--latency`). Pure: text in, numbers out.
 *
 *   Running 5s test @ http://127.0.0.1:18080/
 *     1 threads and 32 connections
 *     ...
 *     Latency Distribution
 *        50%  296.00us
 *        99%  842.00us
 *     493754 requests in 5.00s, 75.34MB read
 *     Socket errors: connect 0, read 0, write 0, timeout 0
 *     Non-2xx or 3xx responses: 12
 *   Requests/sec:  98731.82
 */

export interface WrkResult {
  /** Completed requests (wrk counts every response, whatever its status). */
  requests: number;
  durationSeconds: number;
  requestsPerSecond: number;
  /** Latency percentiles in milliseconds, keyed by percent (50, 75, 90, 99). */
  latencyMs: ReadonlyMap<number, number>;
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  non2xx3xx: number;
}

export class WrkParseError extends Error {
  override readonly name = 'WrkParseError';
}

const TIME_UNITS_MS: Readonly<Record<string, number>> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Converts one of wrk's durations ("296.00us", "1.93ms", "2.00s", "1.00m") to milliseconds. */
export function parseWrkDurationMs(text: string): number {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)(us|ms|s|m|h)\s*$/.exec(text);
  const unit = m?.[2];
  if (!m || unit === undefined) throw new WrkParseError(`not a wrk duration: ${JSON.stringify(text)}`);
  return Number(m[1]) * (TIME_UNITS_MS[unit] ?? Number.NaN);
}

function need(re: RegExp, text: string, what: string): RegExpExecArray {
  const m = re.exec(text);
  if (!m) throw new WrkParseError(`wrk output has no ${what}`);
  return m;
}

/** Parses wrk's report; throws WrkParseError naming what is missing. */
export function parseWrk(text: string): WrkResult {
  const summary = need(/^\s*(\d+) requests in ([0-9.]+(?:us|ms|s|m|h)),/m, text, '"N requests in T" line');
  const rps = need(/^Requests\/sec:\s*([0-9.]+)/m, text, '"Requests/sec:" line');

  const dist = text.indexOf('Latency Distribution');
  if (dist < 0) throw new WrkParseError('wrk output has no "Latency Distribution" (run wrk with --latency)');
  const latencyMs = new Map<number, number>();
  for (const line of text.slice(dist).split('\n').slice(1)) {
    const m = /^\s*([0-9.]+)%\s+(\S+)\s*$/.exec(line);
    if (!m) break;
    latencyMs.set(Number(m[1]), parseWrkDurationMs(m[2] ?? ''));
  }
  if (!latencyMs.has(50) || !latencyMs.has(99)) throw new WrkParseError('wrk latency distribution lacks 50% or 99%');

  const se = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses:\s*(\d+)/.exec(text);
  return {
    requests: Number(summary[1]),
    durationSeconds: parseWrkDurationMs(summary[2] ?? '') / 1000,
    requestsPerSecond: Number(rps[1]),
    latencyMs,
    socketErrors: {
      connect: Number(se?.[1] ?? 0),
      read: Number(se?.[2] ?? 0),
      write: Number(se?.[3] ?? 0),
      timeout: Number(se?.[4] ?? 0),
    },
    non2xx3xx: Number(non2xx?.[1] ?? 0),
  };
}

/** Requests that did not get a 2xx/3xx answer or hit a socket error. */
export function wrkErrorCount(r: WrkResult): number {
  const s = r.socketErrors;
  return s.connect + s.read + s.write + s.timeout + r.non2xx3xx;
}
