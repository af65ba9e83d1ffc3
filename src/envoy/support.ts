import { isMessage, type DescField, type DescMessage, type Message, type Registry } from '@bufbuild/protobuf';
import { anyUnpack, type Any } from '@bufbuild/protobuf/wkt';
import { ConfigError } from './registry.js';

/**
 * Which fields of which Envoy messages tsmesh implements: message type name → field names
 * (proto names, as written in YAML). '*' accepts the whole message and everything below it.
 * A set field that is not listed fails start-up: nothing in a config is silently ignored.
 */
export type SupportTable = ReadonlyMap<string, ReadonlySet<string> | '*'>;

const WELL_KNOWN = /^google\.protobuf\./;

/** Returns every set field under `msg` that the table does not list, with its field path. */
export function findUnsupported(msg: Message, desc: DescMessage, table: SupportTable, registry: Registry, path = ''): ConfigError[] {
  const errors: ConfigError[] = [];
  walk(msg, desc, path);
  return errors;

  function walk(m: Message, d: DescMessage, p: string): void {
    if (d.typeName === 'google.protobuf.Any') {
      const any = m as Any;
      const inner = registry.getMessage(any.typeUrl.slice(any.typeUrl.lastIndexOf('/') + 1));
      if (!inner) {
        errors.push(new ConfigError(join(p, 'typed_config'), `unknown type ${any.typeUrl}`));
        return;
      }
      const unpacked = anyUnpack(any, registry);
      if (unpacked) walk(unpacked, inner, p);
      return;
    }
    if (WELL_KNOWN.test(d.typeName)) return;
    const allowed = table.get(d.typeName);
    if (allowed === '*') return;
    const rec = m as unknown as Record<string, unknown>;
    for (const f of d.fields) {
      const value = valueOf(rec, f);
      if (!isSet(f, value)) continue;
      const fp = join(p, f.name);
      if (!allowed || !allowed.has(f.name)) {
        errors.push(new ConfigError(fp, `field is not supported by tsmesh (${d.typeName}.${f.name})`));
        continue;
      }
      if (f.fieldKind === 'message' && isMessage(value)) walk(value, f.message, fp);
      else if (f.fieldKind === 'list' && f.listKind === 'message') {
        (value as Message[]).forEach((v, i) => walk(v, f.message, `${fp}[${i}]`));
      } else if (f.fieldKind === 'map' && f.mapKind === 'message') {
        for (const [k, v] of Object.entries(value as Record<string, Message>)) walk(v, f.message, `${fp}[${k}]`);
      }
    }
  }
}

function valueOf(rec: Record<string, unknown>, f: DescField): unknown {
  if (f.oneof) {
    const o = rec[f.oneof.localName] as { case?: string; value?: unknown } | undefined;
    return o && o.case === f.localName ? o.value ?? null : undefined;
  }
  return rec[f.localName];
}

function isSet(f: DescField, v: unknown): boolean {
  if (v === undefined) return false;
  if (f.oneof) return true;
  switch (f.fieldKind) {
    case 'list': return (v as unknown[]).length > 0;
    case 'map': return Object.keys(v as object).length > 0;
    case 'message': return v !== undefined && v !== null;
    case 'enum': return v !== 0;
    case 'scalar':
      if (f.presence === 1 /* EXPLICIT */ ) return v !== undefined;
      return !(v === 0 || v === '' || v === false || v === 0n || (v instanceof Uint8Array && v.length === 0));
  }
}

function join(p: string, name: string): string {
  return p ? `${p}.${name}` : name;
}

/**
 * One entry of a support table: a message (its descriptor, or its full type name when the
 * descriptor should not be loaded just to list it: a filter's, loaded on first use) and its
 * fields, 'field_a field_b' or '*'.
 */
export type SupportEntry = readonly [DescMessage | string, string];

/**
 * Builds a table from a compact list. Field names of entries given by descriptor are checked
 * here; of entries given by name, by checkSupportEntries (in tests, against every descriptor).
 */
export function supportTable(entries: ReadonlyArray<SupportEntry>): SupportTable {
  const t = new Map<string, ReadonlySet<string> | '*'>();
  for (const [desc, fields] of entries) {
    const typeName = typeof desc === 'string' ? desc : desc.typeName;
    if (fields === '*') { t.set(typeName, '*'); continue; }
    const names = new Set(fields.split(/\s+/).filter(Boolean));
    if (typeof desc !== 'string') checkFields(desc, names);
    const prev = t.get(typeName);
    t.set(typeName, prev && prev !== '*' ? new Set([...prev, ...names]) : names);
  }
  return t;
}

function checkFields(desc: DescMessage, names: Iterable<string>): void {
  for (const n of names) if (!desc.fields.some((f) => f.name === n)) throw new Error(`supportTable: ${desc.typeName} has no field ${n}`);
}

/** Throws unless every entry names a message `registry` knows, with the fields it lists. */
export function checkSupportEntries(entries: ReadonlyArray<SupportEntry>, registry: Registry): void {
  for (const [desc, fields] of entries) {
    const d = typeof desc === 'string' ? registry.getMessage(desc) : desc;
    if (!d) throw new Error(`supportTable: no message ${String(desc)}`);
    if (fields !== '*') checkFields(d, fields.split(/\s+/).filter(Boolean));
  }
}
