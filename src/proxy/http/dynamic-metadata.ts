import type { JsonObject } from '@bufbuild/protobuf';

/**
 * A stream's dynamic metadata (Envoy's StreamInfo dynamic metadata): a struct per filter
 * namespace (`envoy.filters.http.jwt_authn`, ...). Created only when a filter writes to it.
 */
export type DynamicMetadata = Map<string, JsonObject>;

/** Envoy's setDynamicMetadata: the fields are merged into the namespace's struct (top level). */
export function mergeDynamicMetadata(md: DynamicMetadata, namespace: string, fields: JsonObject): void {
  const cur = md.get(namespace);
  md.set(namespace, cur ? { ...cur, ...fields } : { ...fields });
}
