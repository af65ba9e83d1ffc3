/** JSON values as Kubernetes objects arrive (YAML or AdmissionReview): no class, no undefined. */
export type Json = string | number | boolean | null | Json[] | JsonObject;
export interface JsonObject { [key: string]: Json }

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Structural equality of two JSON values (key order does not matter, array order does). */
export function jsonEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

/** A field path as users read it: `spec.containers[1].ports[0].containerPort`, `metadata.annotations["a/b"]`. */
export function fieldPath(tokens: readonly (string | number)[]): string {
  let out = '';
  for (const t of tokens) {
    if (typeof t === 'number') out += `[${t}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(t)) out += out ? `.${t}` : t;
    else out += `[${JSON.stringify(t)}]`;
  }
  return out;
}

/** Bad input to the injector: where (a field path) and why, for the user to fix. */
export class InjectError extends Error {
  constructor(readonly path: string, readonly reason: string) {
    super(path ? `${path}: ${reason}` : reason);
  }
}
