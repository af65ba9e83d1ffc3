import { createRegistry, fromBinary, type DescMessage, type Message, type Registry } from '@bufbuild/protobuf';
import { anyUnpack, file_google_protobuf_any, file_google_protobuf_duration, file_google_protobuf_struct, file_google_protobuf_wrappers, file_google_protobuf_timestamp, file_google_protobuf_empty, type Any } from '@bufbuild/protobuf/wkt';
import { generatedFiles } from './generated/files.js';

/** Every Envoy/xDS message type tsmesh knows, so `Any` fields decode by type URL. */
export const envoyRegistry: Registry = createRegistry(
  file_google_protobuf_any, file_google_protobuf_duration, file_google_protobuf_struct,
  file_google_protobuf_wrappers, file_google_protobuf_timestamp, file_google_protobuf_empty,
  ...generatedFiles,
);

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
