import { fromBinary, type DescMessage, type Message } from '@bufbuild/protobuf';
import { anyUnpack, type Any } from '@bufbuild/protobuf/wkt';

// Registries of Envoy types: type-registry.ts (what a config names, for the proxy) and
// full-registry.ts (every generated type, for tests and tools).

export const TYPE_URL_PREFIX = 'type.googleapis.com/';

export function typeUrlOf(desc: DescMessage): string {
  return TYPE_URL_PREFIX + desc.typeName;
}

/** Unpacks an Any that must hold `desc`; throws a message naming `path` otherwise. */
export function unpackAs<D extends DescMessage>(any: Any | undefined, desc: D, path: string): Message<D['typeName']> & ReturnType<typeof fromBinary<D>> {
  if (!any) throw new ConfigError(path, `expected a ${desc.typeName}, got nothing`);
  const want = typeUrlOf(desc);
  if (any.typeUrl !== want) throw new ConfigError(path, `expected @type ${want}, got ${any.typeUrl || '(empty)'}`);
  const m = anyUnpack(any, desc);
  if (!m) throw new ConfigError(path, `cannot decode ${want}`);
  return m as ReturnType<typeof fromBinary<D>>;
}

/** A configuration error: which field, and why. Code is stable for tests and tooling. */
export class ConfigError extends Error {
  readonly code = 'TSMESH_BAD_CONFIG';
  constructor(readonly path: string, readonly reason: string) {
    super(`${path}: ${reason}`);
  }
}
