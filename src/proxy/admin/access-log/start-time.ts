/**
 * %START_TIME(format)%: strftime as Envoy applies it (absl::FormatTime, always UTC) plus Envoy's
 * own `%s` (epoch seconds) and `%f` / `%1f`..`%9f` (fraction of the second, default 9 digits).
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage#config-access-log-format-start-time
 */
import { ConfigError } from '../../../envoy/registry.js';

interface Parts {
  readonly ms: number;
  readonly d: Date;
  /** Nanoseconds into the second, 9 digits. */
  readonly nanos: string;
}

type Piece = string | ((p: Parts) => string);

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));
const pad3 = (n: number): string => String(n).padStart(3, '0');
const hour12 = (h: number): number => (h % 12 === 0 ? 12 : h % 12);
const dayOfYear = (d: Date): number => Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1;
const trimFraction = (nanos: string): string => { const t = nanos.replace(/0+$/, ''); return t ? `.${t}` : ''; };

const SIMPLE: Record<string, (p: Parts) => string> = {
  Y: (p) => String(p.d.getUTCFullYear()),
  C: (p) => pad2(Math.floor(p.d.getUTCFullYear() / 100)),
  y: (p) => pad2(p.d.getUTCFullYear() % 100),
  m: (p) => pad2(p.d.getUTCMonth() + 1),
  d: (p) => pad2(p.d.getUTCDate()),
  e: (p) => String(p.d.getUTCDate()).padStart(2, ' '),
  H: (p) => pad2(p.d.getUTCHours()),
  I: (p) => pad2(hour12(p.d.getUTCHours())),
  M: (p) => pad2(p.d.getUTCMinutes()),
  S: (p) => pad2(p.d.getUTCSeconds()),
  p: (p) => (p.d.getUTCHours() < 12 ? 'AM' : 'PM'),
  j: (p) => pad3(dayOfYear(p.d)),
  a: (p) => DAYS[p.d.getUTCDay()]!.slice(0, 3),
  A: (p) => DAYS[p.d.getUTCDay()]!,
  b: (p) => MONTHS[p.d.getUTCMonth()]!.slice(0, 3),
  h: (p) => MONTHS[p.d.getUTCMonth()]!.slice(0, 3),
  B: (p) => MONTHS[p.d.getUTCMonth()]!,
  u: (p) => String(p.d.getUTCDay() || 7),
  w: (p) => String(p.d.getUTCDay()),
  Z: () => 'UTC',
  z: () => '+0000',
  s: (p) => String(Math.floor(p.ms / 1000)),
  f: (p) => p.nanos,
  n: () => '\n',
  t: () => '\t',
  '%': () => '%',
};

/** Composite specifiers, expanded before compiling (C locale). */
const ALIASES: Record<string, string> = {
  T: '%H:%M:%S', D: '%m/%d/%y', F: '%Y-%m-%d', R: '%H:%M', r: '%I:%M:%S %p',
  c: '%a %b %e %H:%M:%S %Y', x: '%m/%d/%y', X: '%H:%M:%S',
};

/** Envoy's default START_TIME: `2016-04-15T20:17:00.310Z` (%Y-%m-%dT%H:%M:%E3SZ, UTC). */
export function formatStartTimeDefault(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * formatStartTimeDefault with the text up to the second cached, as Envoy caches the formatted
 * second: lines finish out of start order (32 connections, one millisecond apart), so a cache
 * of the last millisecond alone misses on most lines.
 */
function defaultStartTime(): (ms: number) => string {
  let second = NaN;
  let prefix = '';
  return (ms) => {
    const sec = Math.floor(ms / 1000);
    if (sec !== second) {
      const iso = new Date(sec * 1000).toISOString();
      prefix = iso.slice(0, iso.length - 4); // through the '.' before the milliseconds
      second = sec;
    }
    const m = Math.floor(ms - sec * 1000);
    return `${prefix}${m < 10 ? '00' : m < 100 ? '0' : ''}${m}Z`;
  };
}

/**
 * Compiles a START_TIME format once. An empty format is Envoy's default. Throws ConfigError
 * (at `path`) for a specifier it does not know, so a typo fails at config load, not in the log.
 */
export function compileStartTime(format: string, path: string): (ms: number) => string {
  if (format === '') return cached(defaultStartTime());
  const pieces = parse(format, path);
  return cached((ms) => {
    const whole = Math.floor(ms / 1000) * 1000;
    const nanos = String(Math.round((ms - whole) * 1e6)).padStart(9, '0').slice(0, 9);
    const p: Parts = { ms, d: new Date(ms), nanos };
    let s = '';
    for (const piece of pieces) s += typeof piece === 'string' ? piece : piece(p);
    return s;
  });
}

/** Lines logged in the same millisecond share one formatted time. */
function cached(format: (ms: number) => string): (ms: number) => string {
  let lastMs = NaN;
  let last = '';
  return (ms) => {
    if (ms !== lastMs) { last = format(ms); lastMs = ms; }
    return last;
  };
}

function parse(format: string, path: string): Piece[] {
  const pieces: Piece[] = [];
  let lit = '';
  const push = (f: (p: Parts) => string): void => {
    if (lit) { pieces.push(lit); lit = ''; }
    pieces.push(f);
  };
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c !== '%') { lit += c; continue; }
    const rest = format.slice(i + 1);
    const spec = rest[0] ?? '';
    let m: RegExpExecArray | null;
    let len = 1;
    if ((m = /^([1-9])f/.exec(rest))) {
      const n = Number(m[1]);
      push((p) => p.nanos.slice(0, n));
    } else if ((m = /^E([0-9]|\*)S/.exec(rest))) {
      const n = m[1]!;
      push(n === '*' ? (p) => pad2(p.d.getUTCSeconds()) + trimFraction(p.nanos)
        : n === '0' ? (p) => pad2(p.d.getUTCSeconds())
        : (p) => `${pad2(p.d.getUTCSeconds())}.${p.nanos.slice(0, Number(n))}`);
    } else if ((m = /^E([0-9]|\*)f/.exec(rest))) {
      const n = m[1]!;
      push(n === '*' ? (p) => trimFraction(p.nanos).slice(1) : (p) => p.nanos.slice(0, Number(n)));
    } else if ((m = /^E\*?z/.exec(rest))) {
      push(() => '+00:00');
    } else if ((m = /^E4Y/.exec(rest))) {
      push((p) => String(p.d.getUTCFullYear()).padStart(4, '0'));
    } else if (ALIASES[spec] !== undefined) {
      for (const piece of parse(ALIASES[spec]!, path)) {
        if (typeof piece === 'string') lit += piece;
        else push(piece);
      }
    } else if (SIMPLE[spec] !== undefined) {
      push(SIMPLE[spec]!);
    } else {
      throw new ConfigError(path, `START_TIME format ${JSON.stringify(format)}: unsupported specifier %${spec} at position ${i}`);
    }
    if (m) len = m[0].length;
    i += len;
  }
  if (lit) pieces.push(lit);
  return pieces;
}
