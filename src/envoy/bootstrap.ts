import { readFileSync } from 'node:fs';
import { fromJson, type JsonValue, type Registry } from '@bufbuild/protobuf';
import { BootstrapSchema, type Bootstrap } from './generated/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { ConfigError } from './registry.js';
import { parseJsonWithoutDuplicates } from './json-text.js';
import { registryFor, typeNamesInJson } from './type-registry.js';

/** A decoded bootstrap and the registry of the `Any` types it names (see type-registry.ts). */
export interface LoadedBootstrap {
  readonly bootstrap: Bootstrap;
  readonly registry: Registry;
  /** What `registry` was built from, so another thread can build the same one. */
  readonly typeNames: readonly string[];
}

/** Parses bootstrap text (YAML is a superset of JSON) with the proto3 JSON mapping, strictly. */
export async function parseBootstrap(text: string, source = 'bootstrap'): Promise<LoadedBootstrap> {
  const json = parseJsonWithoutDuplicates(text) ?? await parseYaml(text, source);
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new ConfigError(source, 'expected a mapping at the top level');
  const typeNames = [...typeNamesInJson(json)];
  const registry = await registryFor(typeNames);
  try {
    return { bootstrap: fromJson(BootstrapSchema, json, { registry }), registry, typeNames };
  } catch (e) {
    throw new ConfigError(source, (e as Error).message);
  }
}

// Imported on demand: the YAML parser costs a JSON bootstrap nothing.
async function parseYaml(text: string, source: string): Promise<JsonValue> {
  const { parseYamlDocument } = await import('./yaml-json.js');
  return parseYamlDocument(text, source);
}

export async function loadBootstrapFile(file: string): Promise<LoadedBootstrap> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, `cannot read: ${(e as Error).message}`);
  }
  return parseBootstrap(text, file);
}
