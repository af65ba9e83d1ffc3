import { isDeepStrictEqual } from 'node:util';
import type { MeshResource } from './kinds.js';

/** Two versions of one resource say the same: apiVersion, spec, labels and annotations (not timestamps). */
export function sameContent(a: MeshResource, b: MeshResource): boolean {
  return a.apiVersion === b.apiVersion && isDeepStrictEqual(a.spec, b.spec)
    && isDeepStrictEqual(a.metadata.labels ?? {}, b.metadata.labels ?? {})
    && isDeepStrictEqual(a.metadata.annotations ?? {}, b.metadata.annotations ?? {});
}
