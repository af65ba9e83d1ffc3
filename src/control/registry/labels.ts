/** True when every key/value of `selector` is in `labels` (Kubernetes label selection). */
export function selects(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}

/** A copy with keys in sorted order, so that JSON of it is stable. */
export function sortedRecord<V>(r: Readonly<Record<string, V>> | undefined): Record<string, V> {
  const out: Record<string, V> = {};
  if (!r) return out;
  for (const k of Object.keys(r).sort()) out[k] = r[k] as V;
  return out;
}

/** Compares resources the way Istio orders conflicting config: oldest first, then namespace/name. */
export function byCreation(a: { metadata: { name: string; namespace: string; creationTimestamp?: string } }, b: typeof a): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = `${a.metadata.namespace}/${a.metadata.name}`;
  const kb = `${b.metadata.namespace}/${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
