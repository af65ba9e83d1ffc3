/**
 * Envoy's CheckAudience: configured audiences and the JWT's `aud` compare without an `http://`
 * or `https://` scheme and without a trailing `/`. No configured audience allows any JWT; with
 * some, one of the JWT's must be among them (a JWT without `aud` is then refused).
 */
export class AudienceCheck {
  readonly #allowed: ReadonlySet<string>;
  constructor(audiences: readonly string[]) {
    this.#allowed = new Set(audiences.map(normalize));
  }

  allows(jwtAudiences: readonly string[]): boolean {
    if (this.#allowed.size === 0) return true;
    for (const a of jwtAudiences) if (this.#allowed.has(normalize(a))) return true;
    return false;
  }
}

function normalize(a: string): string {
  let s = a.startsWith('http://') ? a.slice(7) : a.startsWith('https://') ? a.slice(8) : a;
  if (s.endsWith('/')) s = s.slice(0, -1);
  return s;
}
