/** `-f FILE|DIR|-` inputs of apply / delete / analyze: read, parsed locally so errors name the file. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocuments } from '../control/config/parse.js';
import type { RawDocument } from '../control/config/validate.js';
import type { ConfigIssue } from '../control/config/issues.js';
import { CliFailure } from './control-client.js';

const EXTENSIONS = ['.yaml', '.yml', '.json'];

/** Files behind the -f arguments: a directory contributes its *.yaml/*.yml/*.json (sorted, not recursive). */
export function expandInputs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    if (a === '-') { out.push(a); continue; }
    let st;
    try { st = statSync(a); } catch { throw new CliFailure(`${a}: no such file or directory`); }
    if (st.isDirectory()) {
      const files = readdirSync(a).filter((f) => !f.startsWith('.') && EXTENSIONS.some((x) => f.endsWith(x))).sort();
      if (files.length === 0) throw new CliFailure(`${a}: no .yaml, .yml or .json files`);
      out.push(...files.map((f) => join(a, f)));
    } else {
      out.push(a);
    }
  }
  return out;
}

export function readInputs(args: readonly string[]): { documents: RawDocument[]; issues: ConfigIssue[] } {
  const documents: RawDocument[] = [];
  const issues: ConfigIssue[] = [];
  for (const f of expandInputs(args)) {
    const text = f === '-' ? readFileSync(0, 'utf8') : readFileSync(f, 'utf8');
    const parsed = parseDocuments(text, f === '-' ? 'stdin' : f);
    documents.push(...parsed.documents);
    issues.push(...parsed.issues);
  }
  return { documents, issues };
}
