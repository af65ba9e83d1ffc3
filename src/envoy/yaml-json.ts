import { parseAllDocuments } from 'yaml';
import type { JsonValue } from '@bufbuild/protobuf';
import { ConfigError } from './registry.js';

/** Parses one YAML (or JSON) document into plain values, as the bootstrap loader reads it. */
export function parseYamlDocument(text: string, source: string): JsonValue {
  const docs = parseAllDocuments(text);
  if (docs.length !== 1) throw new ConfigError(source, `expected one YAML/JSON document, got ${docs.length}`);
  const doc = docs[0]!;
  if (doc.errors.length > 0) throw new ConfigError(source, `invalid YAML: ${doc.errors[0]!.message}`);
  return doc.toJS({ maxAliasCount: 100 }) as JsonValue;
}

/**
 * The JSON text of a YAML document when JSON carries it exactly (no NaN, infinity, -0, binary
 * or other non-JSON values, which `JSON.stringify` would turn into something else), else
 * undefined: then whoever needs the document parses the YAML itself and reports its problems.
 */
export function yamlAsJsonText(text: string): string | undefined {
  let value: JsonValue;
  try {
    value = parseYamlDocument(text, '');
  } catch {
    return undefined;
  }
  return exactInJson(value) ? JSON.stringify(value) : undefined;
}

function exactInJson(root: unknown): boolean {
  const todo: unknown[] = [root];
  while (todo.length > 0) {
    const v = todo.pop();
    if (v === null || typeof v === 'string' || typeof v === 'boolean') continue;
    if (typeof v === 'number') {
      if (!Number.isFinite(v) || Object.is(v, -0)) return false;
      continue;
    }
    if (Array.isArray(v)) { for (const item of v) todo.push(item); continue; }
    if (typeof v !== 'object') return false;
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) return false;
    for (const item of Object.values(v)) todo.push(item);
  }
  return true;
}
