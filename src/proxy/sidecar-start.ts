import { toJson, type JsonObject, type JsonValue } from '@bufbuild/protobuf';
import type { LoadedBootstrap } from '../envoy/bootstrap.js';
import { BootstrapSchema } from '../envoy/generated/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { registryFor } from '../envoy/type-registry.js';
import { sidecarBootstrap, type SidecarOptions } from './sidecar-bootstrap.js';

/** The sidecar bootstrap for `o` with the registry of the types it holds, as a file would load. */
export async function loadSidecarBootstrap(o: SidecarOptions): Promise<LoadedBootstrap> {
  const { bootstrap, typeNames } = sidecarBootstrap(o);
  return { bootstrap, registry: await registryFor(typeNames), typeNames };
}

/** A bootstrap as YAML with Envoy's (proto) field names: what `-c FILE` would accept. */
export async function bootstrapYaml(b: LoadedBootstrap): Promise<string> {
  const { stringify } = await import('yaml');
  return stringify(typeFirst(toJson(BootstrapSchema, b.bootstrap, { registry: b.registry, useProtoFieldName: true })));
}

// "@type" leads its mapping, as people write it, so the printed YAML reads like a hand-written one.
function typeFirst(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(typeFirst);
  if (v === null || typeof v !== 'object') return v;
  const out: JsonObject = {};
  if ('@type' in v) out['@type'] = v['@type']!;
  for (const [k, x] of Object.entries(v)) if (k !== '@type') out[k] = typeFirst(x);
  return out;
}
