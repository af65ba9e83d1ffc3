import { RE2JS } from 're2js';
import { describeValue, keyPath, type ConfigIssue } from './issues.js';
import { parseDurationMs } from './duration.js';
import { isDnsName, isHostOrWildcard, isIp, isCidr, labelKeyProblem, labelValueProblem, isDns1123Label, isHeaderName } from './names.js';

export type Obj = Record<string, unknown>;

/**
 * Walks one raw resource and collects every problem with its field path; never throws. Each
 * method checks one value, reports what is wrong with it, and returns the value typed when it
 * is right (undefined otherwise), so validators read as a description of the schema.
 */
export class Checker {
  readonly issues: ConfigIssue[] = [];
  constructor(readonly resource: string, readonly source?: string) {}

  error(path: string, message: string): void {
    this.issues.push({ resource: this.resource, path, message, severity: 'error', ...(this.source ? { source: this.source } : {}) });
  }

  /**
   * An object whose keys are all in `known`; a key Istio has but tsmesh does not implement
   * (`unsupported`) says so, any other key is "unknown field". Null/absent → undefined, silently.
   */
  object(path: string, v: unknown, known: readonly string[], unsupported: readonly string[] = []): Obj | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) { this.error(path, `expected an object, got ${describeValue(v)}`); return undefined; }
    const o = v as Obj;
    for (const k of Object.keys(o)) {
      // proto3 JSON (and so Istio): a field set to null is a field not set.
      if (o[k] === null) { delete o[k]; continue; }
      if (known.includes(k)) continue;
      this.error(keyPath(path, k), unsupported.includes(k) ? 'not supported by tsmesh' : 'unknown field');
    }
    return o;
  }

  required(path: string, v: unknown): boolean {
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) { this.error(path, 'required'); return false; }
    return true;
  }

  string(path: string, v: unknown): string | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') { this.error(path, `expected a string, got ${describeValue(v)}`); return undefined; }
    return v;
  }

  bool(path: string, v: unknown): boolean | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') { this.error(path, `expected true or false, got ${describeValue(v)}`); return undefined; }
    return v;
  }

  int(path: string, v: unknown, min: number, max: number): number | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) { this.error(path, `expected an integer ${min}-${max}, got ${describeValue(v)}`); return undefined; }
    return v;
  }

  port(path: string, v: unknown): number | undefined {
    return this.int(path, v, 1, 65535);
  }

  oneOf<T extends string>(path: string, v: unknown, values: readonly T[]): T | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) { this.error(path, `expected one of ${values.join(', ')}, got ${describeValue(v)}`); return undefined; }
    return v as T;
  }

  /** A list; null elements are errors (a list entry cannot be "not set"). */
  array(path: string, v: unknown): unknown[] | undefined {
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) { this.error(path, `expected a list, got ${describeValue(v)}`); return undefined; }
    v.forEach((x, i) => { if (x === null || x === undefined) this.error(`${path}[${i}]`, 'expected a value, got null'); });
    return v;
  }

  /** A map (keys chosen by the user); null values are errors. */
  map(path: string, v: unknown): Obj | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) { this.error(path, `expected a map, got ${describeValue(v)}`); return undefined; }
    for (const [k, x] of Object.entries(v as Obj)) if (x === null || x === undefined) this.error(keyPath(path, k), 'expected a value, got null');
    return v as Obj;
  }

  stringList(path: string, v: unknown, each?: (p: string, s: string) => void): string[] | undefined {
    const a = this.array(path, v);
    if (!a) return undefined;
    a.forEach((x, i) => { const s = this.string(`${path}[${i}]`, x); if (s !== undefined && each) each(`${path}[${i}]`, s); });
    return a as string[];
  }

  stringMap(path: string, v: unknown, each?: (p: string, k: string, s: string) => void): Record<string, string> | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) { this.error(path, `expected a map of strings, got ${describeValue(v)}`); return undefined; }
    for (const [k, x] of Object.entries(v as Obj)) {
      if (x === null || x === undefined) { this.error(keyPath(path, k), 'expected a string, got null'); continue; }
      const s = this.string(keyPath(path, k), x);
      if (s !== undefined && each) each(keyPath(path, k), k, s);
    }
    return v as Record<string, string>;
  }

  /** Kubernetes labels: valid keys and values. */
  labels(path: string, v: unknown): void {
    this.stringMap(path, v, (p, k, s) => {
      const kp = labelKeyProblem(k);
      if (kp) this.error(p, `${kp}, got ${describeValue(k)}`);
      const vp = labelValueProblem(s);
      if (vp) this.error(p, `${vp}, got ${describeValue(s)}`);
    });
  }

  /** An Istio duration of at least 1ms with millisecond precision (Istio's ValidateDuration). */
  duration(path: string, v: unknown): number | undefined {
    if (v === undefined || v === null) return undefined;
    const ms = typeof v === 'string' ? parseDurationMs(v) : undefined;
    if (ms === undefined) { this.error(path, `expected a duration such as "1s", "100ms" or "1m30s", got ${describeValue(v)}`); return undefined; }
    if (ms < 1) { this.error(path, `duration must be at least 1ms, got ${describeValue(v)}`); return undefined; }
    if (!Number.isInteger(ms)) { this.error(path, `only durations to ms precision are supported, got ${describeValue(v)}`); return undefined; }
    return ms;
  }

  /** Istio's Percent: `{ value: 0-100 }` (a double). */
  percent(path: string, v: unknown): number | undefined {
    const o = this.object(path, v, ['value']);
    if (!o) return undefined;
    const x = o['value'];
    if (x === undefined || x === null) return 0;
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || x > 100) { this.error(`${path}.value`, `expected a number 0-100, got ${describeValue(x)}`); return undefined; }
    return x;
  }

  /** A host in `hosts` lists: a DNS name, a short name, `*` or `*.suffix`. */
  host(path: string, v: unknown, opts: { wildcard: boolean }): string | undefined {
    const s = this.string(path, v);
    if (s === undefined) return undefined;
    const ok = opts.wildcard ? isHostOrWildcard(s) : isDnsName(s);
    if (!ok) this.error(path, opts.wildcard ? `expected a DNS name or a wildcard such as "*.example.com", got ${describeValue(s)}` : `expected a DNS name (no wildcards), got ${describeValue(s)}`);
    return ok ? s : undefined;
  }

  ip(path: string, v: unknown): string | undefined {
    const s = this.string(path, v);
    if (s !== undefined && !isIp(s)) { this.error(path, `expected an IP address, got ${describeValue(s)}`); return undefined; }
    return s;
  }

  ipOrCidr(path: string, v: unknown): string | undefined {
    const s = this.string(path, v);
    if (s !== undefined && !isIp(s) && !isCidr(s)) { this.error(path, `expected an IP address or CIDR such as "10.0.0.0/8", got ${describeValue(s)}`); return undefined; }
    return s;
  }

  dnsLabel(path: string, v: unknown): string | undefined {
    const s = this.string(path, v);
    if (s !== undefined && !isDns1123Label(s)) { this.error(path, `expected a DNS-1123 label (lowercase letters, digits, "-", at most 63), got ${describeValue(s)}`); return undefined; }
    return s;
  }

  headerName(path: string, name: string): void {
    if (!isHeaderName(name)) this.error(path, `expected an HTTP header name, got ${describeValue(name)}`);
  }

  /** An RE2 regex (Envoy's only engine): what RE2 rejects is refused here. */
  regex(path: string, v: unknown): string | undefined {
    const s = this.string(path, v);
    if (s === undefined) return undefined;
    try {
      RE2JS.compile(s);
      return s;
    } catch (e) {
      this.error(path, `invalid RE2 regex ${describeValue(s)}: ${(e as Error).message}`);
      return undefined;
    }
  }

  /**
   * Istio's StringMatch: exactly one of exact / prefix / regex. `allowEmpty` for header and
   * query-parameter matches, where `{}` means "present" in Istio; `noPrefix` where Istio has none.
   */
  stringMatch(path: string, v: unknown, opts: { allowEmpty?: boolean; noPrefix?: boolean } = {}): void {
    const o = this.object(path, v, opts.noPrefix ? ['exact', 'regex'] : ['exact', 'prefix', 'regex'], opts.noPrefix ? ['prefix'] : []);
    if (!o) { if (v === undefined || v === null) { if (!opts.allowEmpty) this.error(path, 'expected exactly one of exact, prefix, regex'); } return; }
    const set = ['exact', 'prefix', 'regex'].filter((k) => o[k] !== undefined && o[k] !== null);
    if (set.length === 0 && !opts.allowEmpty) this.error(path, 'expected exactly one of exact, prefix, regex');
    if (set.length > 1) this.error(path, `expected exactly one of exact, prefix, regex, got ${set.join(' and ')}`);
    this.string(`${path}.exact`, o['exact']);
    this.string(`${path}.prefix`, o['prefix']);
    if (o['regex'] !== undefined) this.regex(`${path}.regex`, o['regex']);
  }

  /** Istio's exportTo: "." (this namespace), "*" (all), "~" (none) or namespace names. */
  exportTo(path: string, v: unknown): void {
    this.stringList(path, v, (p, s) => {
      if (s !== '.' && s !== '*' && s !== '~' && !isDns1123Label(s)) this.error(p, `expected ".", "*", "~" or a namespace, got ${describeValue(s)}`);
    });
  }
}
