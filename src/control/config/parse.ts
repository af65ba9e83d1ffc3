/*
 * Multi-document YAML (or JSON) → raw documents. JSON is YAML, so one parser takes both; a
 * top-level list, or a `kind: List` with `items` (what `tsmesh get -o json` prints), is
 * unpacked into its documents. Syntax errors name the source and the line. Pure.
 */
import { LineCounter, parseAllDocuments } from 'yaml';
import type { MeshResource } from './kinds.js';
import type { ConfigIssue } from './issues.js';
import { validateAll, type RawDocument } from './validate.js';

export function parseDocuments(text: string, source = 'input'): { documents: RawDocument[]; issues: ConfigIssue[] } {
  const documents: RawDocument[] = [];
  const issues: ConfigIssue[] = [];
  let docs;
  const lines = new LineCounter();
  try {
    docs = parseAllDocuments(text, { prettyErrors: false, uniqueKeys: true, strict: true, lineCounter: lines });
  } catch (e) {
    return { documents, issues: [{ resource: source, path: '', message: `cannot parse: ${(e as Error).message}`, severity: 'error', source }] };
  }
  const list = Array.isArray(docs) ? docs : [docs];
  list.forEach((doc, i) => {
    const origin = list.length > 1 ? `${source} document ${i + 1}` : source;
    if (doc.errors.length > 0) {
      for (const err of doc.errors) {
        const at = lines.linePos(err.pos[0]);
        issues.push({ resource: origin, path: `line ${at.line}, column ${at.col}`, message: err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''), severity: 'error', source });
      }
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      issues.push({ resource: origin, path: '', message: `cannot parse: ${(e as Error).message}`, severity: 'error', source });
      return;
    }
    if (value === null || value === undefined) return; // an empty document (comments only, trailing ---)
    for (const [j, v] of unpackList(value).entries()) documents.push({ value: v, origin: unpackList(value).length > 1 || Array.isArray(value) ? `${origin} item ${j + 1}` : origin });
  });
  return { documents, issues };
}

function unpackList(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (v && typeof v === 'object' && (v as { kind?: unknown }).kind === 'List' && Array.isArray((v as { items?: unknown }).items)) return (v as { items: unknown[] }).items;
  return [v];
}

/** Parse and validate: the resources, complete only when there are no issues. */
export function parseResources(text: string, source = 'input'): { resources: MeshResource[]; issues: ConfigIssue[] } {
  const parsed = parseDocuments(text, source);
  const validated = validateAll(parsed.documents);
  return { resources: parsed.issues.length ? [] : validated.resources, issues: [...parsed.issues, ...validated.issues] };
}
