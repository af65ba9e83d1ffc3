import { readFileSync } from 'node:fs';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { parseAllDocuments } from 'yaml';
import { BootstrapSchema, type Bootstrap } from './generated/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { ConfigError, envoyRegistry } from './registry.js';

/** Parses bootstrap text (YAML is a superset of JSON) with the proto3 JSON mapping, strictly. */
export function parseBootstrap(text: string, source = 'bootstrap'): Bootstrap {
  const docs = parseAllDocuments(text);
  if (docs.length !== 1) throw new ConfigError(source, `expected one YAML/JSON document, got ${docs.length}`);
  const doc = docs[0]!;
  if (doc.errors.length > 0) throw new ConfigError(source, `invalid YAML: ${doc.errors[0]!.message}`);
  const json = doc.toJS({ maxAliasCount: 100 }) as JsonValue;
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new ConfigError(source, 'expected a mapping at the top level');
  try {
    return fromJson(BootstrapSchema, json, { registry: envoyRegistry });
  } catch (e) {
    throw new ConfigError(source, (e as Error).message);
  }
}

export function loadBootstrapFile(file: string): Bootstrap {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, `cannot read: ${(e as Error).message}`);
  }
  return parseBootstrap(text, file);
}
