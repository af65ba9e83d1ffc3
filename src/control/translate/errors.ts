/**
 * A resource that passed (or skipped) validation but cannot be translated, e.g. a malformed
 * duration. Names the resource and field so the caller (the xDS server) can report it and keep
 * serving the last good snapshot. Stable code for tests and tooling.
 */
export class TranslationError extends Error {
  readonly code = 'TSMESH_TRANSLATE';
  constructor(readonly resource: string, readonly path: string, readonly reason: string) {
    super(`${resource}: ${path}: ${reason}`);
  }
}

/** Runs `fn`; an error it throws becomes a TranslationError naming `resource` and `path`. */
export function within<T>(resource: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof TranslationError) throw e;
    throw new TranslationError(resource, path, e instanceof Error ? e.message : String(e));
  }
}
