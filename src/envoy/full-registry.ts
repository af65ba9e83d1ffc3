import { createRegistry, type Registry } from '@bufbuild/protobuf';
import { file_google_protobuf_any, file_google_protobuf_duration, file_google_protobuf_struct, file_google_protobuf_wrappers, file_google_protobuf_timestamp, file_google_protobuf_empty } from '@bufbuild/protobuf/wkt';
import { generatedFiles } from './generated/files.js';

/**
 * Every Envoy/xDS message type tsmesh generates, so `Any` fields decode by type URL. Importing
 * this hydrates every descriptor (megabytes of heap): the proxy uses `registryFor` instead.
 */
export const envoyRegistry: Registry = createRegistry(
  file_google_protobuf_any, file_google_protobuf_duration, file_google_protobuf_struct,
  file_google_protobuf_wrappers, file_google_protobuf_timestamp, file_google_protobuf_empty,
  ...generatedFiles,
);
