/**
 * ASCII-only case folding, as Envoy does it (`absl::AsciiStrToLower`, `EqualsIgnoreCase`,
 * `StartsWithIgnoreCase`): only A-Z fold; other characters compare as they are.
 */

/** Lower-cases A-Z only; returns `s` itself (no allocation) when it has no upper-case letter. */
export function asciiLower(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
  }
  return s;
}

function fold(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

/** Whether `s[at, at + lower.length)` equals `lower` (already ASCII lower-case) ignoring ASCII case. */
export function regionEqualsIgnoreCase(s: string, at: number, lower: string): boolean {
  if (at < 0 || at + lower.length > s.length) return false;
  for (let i = 0; i < lower.length; i++) {
    if (fold(s.charCodeAt(at + i)) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** Whether `s` contains `lower` (already ASCII lower-case) ignoring ASCII case. */
export function containsIgnoreCase(s: string, lower: string): boolean {
  return asciiLower(s).includes(lower);
}
