/**
 * Parsing of h2load (nghttp2) output: the summary it prints and the per-request log that
 * `--log-file` writes. Pure: text in, numbers out.
 *
 *   finished in 5.00s, 999.87 req/s, 156.23KB/s
 *   requests: 5000 total, 5000 started, 5000 done, 5000 succeeded, 0 failed, 0 errored, 0 timeout
 *   status codes: 5000 2xx, 0 3xx, 0 4xx, 0 5xx
 *
 * The log has one line per request: start time (µs since the epoch), status code, µs from the
 * start of the request to the end of its response, tab-separated.
 */

export interface H2loadSummary {
  requestsPerSecond: number;
  total: number;
  done: number;
  succeeded: number;
  failed: number;
  errored: number;
  timeout: number;
  status2xx: number;
  /** The protocol h2load used ("h2c", "http/1.1"), if it said. */
  protocol?: string;
}

export class H2loadParseError extends Error {
  override readonly name = 'H2loadParseError';
}

/** Parses h2load's summary; throws H2loadParseError naming what is missing. */
export function parseH2loadSummary(text: string): H2loadSummary {
  const fin = /^finished in [^,]+, ([0-9.]+) req\/s/m.exec(text);
  if (!fin) throw new H2loadParseError('h2load output has no "finished in" line');
  const req = /^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/m.exec(text);
  if (!req) throw new H2loadParseError('h2load output has no "requests:" line');
  const st = /^status codes: (\d+) 2xx/m.exec(text);
  const proto = /^Application protocol: (\S+)/m.exec(text);
  const summary: H2loadSummary = {
    requestsPerSecond: Number(fin[1]),
    total: Number(req[1]),
    done: Number(req[3]),
    succeeded: Number(req[4]),
    failed: Number(req[5]),
    errored: Number(req[6]),
    timeout: Number(req[7]),
    status2xx: Number(st?.[1] ?? 0),
  };
  if (proto?.[1] !== undefined) summary.protocol = proto[1];
  return summary;
}

export interface H2loadLog {
  /** Response times in microseconds of requests answered with 2xx, in file order. */
  okMicros: number[];
  /** Requests answered with anything else (h2load writes status -1 for a failed request). */
  notOk: number;
}

/** Parses the `--log-file` contents. */
export function parseH2loadLog(text: string): H2loadLog {
  const okMicros: number[] = [];
  let notOk = 0;
  for (const line of text.split('\n')) {
    if (line.length === 0) continue;
    const cols = line.split('\t');
    const status = Number(cols[1]);
    const micros = Number(cols[2]);
    if (cols.length < 3 || !Number.isFinite(micros)) throw new H2loadParseError(`bad h2load log line: ${JSON.stringify(line)}`);
    if (status >= 200 && status < 300) okMicros.push(micros);
    else notOk++;
  }
  return { okMicros, notOk };
}
