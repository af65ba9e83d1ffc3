import { createRegistry, type DescFile, type JsonValue, type Registry } from '@bufbuild/protobuf';
import { file_google_protobuf_any, file_google_protobuf_duration, file_google_protobuf_empty, file_google_protobuf_struct, file_google_protobuf_timestamp, file_google_protobuf_wrappers } from '@bufbuild/protobuf/wkt';
import { generatedFileIndex } from './generated/type-index.js';

/*
 * Registries of Envoy types built from what a config names, not from every generated file:
 * hydrating all ~560 generated message descriptors costs megabytes of heap that a sidecar keeps
 * for its whole life. A registry is only consulted for `Any` (`@type`), so it needs exactly the
 * types that `@type` names; every other message is reached through its parent's descriptor.
 * A name with no generated type stays out, so lookups of it fail as in a registry of everything.
 */

const WELL_KNOWN: readonly DescFile[] = [
  file_google_protobuf_any, file_google_protobuf_duration, file_google_protobuf_struct,
  file_google_protobuf_wrappers, file_google_protobuf_timestamp, file_google_protobuf_empty,
];

type TypeHandlerLoader = (typeNames: ReadonlySet<string>) => Promise<void>;
const handlerLoaders: TypeHandlerLoader[] = [];

/**
 * Registers code that loads what handles some `@type`s (a filter's module) when a config names
 * them: registryFor runs every such loader for the names it is given, so whatever decodes a
 * config with the registry can then compile it.
 */
export function onTypesNamed(load: TypeHandlerLoader): void {
  handlerLoaders.push(load);
}


const named = new Set<string>();

/**
 * Runs the onTypesNamed loaders for `typeNames`. registryFor does; a worker thread does it for
 * the types its main thread's configs named (namedTypes), before it compiles what they sent.
 */
export async function loadTypeHandlers(typeNames: Iterable<string>): Promise<void> {
  const wanted = new Set(typeNames);
  for (const n of wanted) named.add(n);
  await Promise.all(handlerLoaders.map((load) => load(wanted)));
}

/** Every type name given to registryFor or loadTypeHandlers in this thread so far. */
export function namedTypes(): string[] {
  return [...named];
}

/** The well-known types plus every generated file that defines one of `typeNames`, and what handles them (onTypesNamed). */
export async function registryFor(typeNames: Iterable<string>): Promise<Registry> {
  const wanted = new Set(typeNames);
  await loadTypeHandlers(wanted);
  // A scan rather than a kept name -> file map: this runs once per thread, at start-up.
  const loads = generatedFileIndex
    .filter(([, pkg, messages]) => messages.split(' ').some((name) => wanted.has(`${pkg}.${name}`)))
    .map(([load]) => load());
  return createRegistry(...WELL_KNOWN, ...await Promise.all(loads));
}

/** Every type an `"@type"` in proto3 JSON names (type URL without its prefix), at any depth. */
export function typeNamesInJson(json: JsonValue): Set<string> {
  const names = new Set<string>();
  const todo: JsonValue[] = [json];
  for (let v = todo.pop(); v !== undefined; v = todo.pop()) {
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) { for (const item of v) todo.push(item); continue; }
    for (const [k, item] of Object.entries(v)) {
      if (k === '@type' && typeof item === 'string') names.add(item.slice(item.lastIndexOf('/') + 1));
      else todo.push(item);
    }
  }
  return names;
}
