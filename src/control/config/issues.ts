/**
 * A problem with mesh config, as the operator sees it: which resource, where in it, and why.
 * Printed as `VirtualService default/reviews: spec.http[0].route[1].weight: expected an integer
 * 0-100, got "abc"`, the same shape for validation (refused before anything is stored) and for
 * analysis (references between resources).
 */
export type Severity = 'error' | 'warning';

export interface ConfigIssue {
  /** "Kind namespace/name", or where the document came from when it has no usable identity. */
  readonly resource: string;
  /** Field path inside the resource ("spec.http[0].route[1].weight"); "" for the whole resource. */
  readonly path: string;
  readonly message: string;
  readonly severity: Severity;
  /** The file (and document) it came from, when it came from a file. */
  readonly source?: string;
}

export function formatIssue(i: ConfigIssue): string {
  return i.path ? `${i.resource}: ${i.path}: ${i.message}` : `${i.resource}: ${i.message}`;
}

/** `Error: ...` / `Warning: ...` lines for analysis output, where both severities are mixed. */
export function formatWithSeverity(i: ConfigIssue): string {
  const where = i.source && !i.resource.includes(i.source) ? ` (${i.source})` : '';
  return `${i.severity === 'error' ? 'Error' : 'Warning'}: ${formatIssue(i)}${where}`;
}

export function resourceLabel(kind: string, namespace: string, name: string): string {
  return `${kind} ${namespace}/${name}`;
}

/** `path.key`, or `path["key"]` when the key is not a plain identifier (label keys with / and .). */
export function keyPath(path: string, key: string): string {
  if (/^[A-Za-z0-9_-]+$/.test(key)) return path ? `${path}.${key}` : key;
  return `${path}[${JSON.stringify(key)}]`;
}

/** A short, JSON-like rendering of a bad value for "got ..." (bounded: a message is one line). */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
