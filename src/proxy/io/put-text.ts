/**
 * Text into bytes without an intermediate string or Buffer: the access log's lines and the
 * tracer's reports are encoded straight into the buffers they are written from. UTF-8 exactly
 * as Buffer.write encodes it (a lone surrogate becomes U+FFFD).
 */

/**
 * Strings longer than this go through the native encoder. In a hot loop one call costs about
 * what ~36 characters cost here, but among a request's other work its entry and exit (context,
 * handle scope, buffer checks) cost ~0.19 µs in `perf` for the 36-character x-request-id of an
 * access-log line: a UUID, a traceparent, most paths and authorities stay in the loop.
 */
export const NATIVE_FROM = 64;

/** Room putNumber needs: String(n) of a number has at most 25 characters. */
export const NUMBER_ROOM = 32;

/**
 * `s` as UTF-8 into `b` at `p`, which has room for 3 bytes per UTF-16 code unit (the most UTF-8
 * takes); returns the position after it.
 */
export function putText(b: Buffer, p: number, s: string): number {
  const n = s.length;
  if (n > NATIVE_FROM) return p + b.write(s, p, 'utf8');
  // The loop every log line runs, written as if the string were ASCII and checked after it (a
  // test per character that leaves the loop makes it about twice as slow); otherwise the native
  // encoder writes it again.
  let all = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    all |= c;
    b[p + i] = c;
  }
  return all < 0x80 ? p + n : p + b.write(s, p, 'utf8');
}

/**
 * A number as JavaScript prints it (String(n)) into `b` at `p`, which has NUMBER_ROOM bytes of
 * room; small non-negative integers without a string. Returns the position after it.
 */
export function putNumber(b: Buffer, p: number, n: number): number {
  if (!(n >= 0 && n <= 0x7fffffff && (n | 0) === n)) return putText(b, p, String(n));
  let digits = 1;
  for (let x = n; x >= 10; x = (x / 10) | 0) digits++;
  const end = p + digits;
  let q = end;
  let x = n;
  do { b[--q] = 48 + (x % 10); x = (x / 10) | 0; } while (x > 0);
  return end;
}
