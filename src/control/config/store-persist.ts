/*
 * What `tsmesh apply` stored, on disk under --data-dir: one JSON file per resource in
 * `<data-dir>/resources/`, written atomically (temp file, fsync, rename, fsync of the directory)
 * so a crash leaves either the old or the new version, never half of one. Loaded at start-up
 * through the same validation as any input: a damaged file is reported and skipped.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomically } from '../atomic-write.js';
import { API_OWNER, type Persistence, type StoredResource } from './store.js';
import type { ConfigIssue } from './issues.js';
import { validateResource } from './validate.js';

const FORMAT = 1;
/** Not *.json, so it is never read as a resource. */
const REVISION_FILE = 'revision';

export class DataDirPersistence implements Persistence {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'resources');
    mkdirSync(this.dir, { recursive: true });
  }

  save(entry: StoredResource): void {
    const r = entry.resource;
    this.#write(fileName(r.kind, r.metadata.namespace, r.metadata.name), JSON.stringify({ format: FORMAT, owner: entry.owner, resource: r }, null, 2) + '\n');
  }

  saveRevision(revision: number): void {
    this.#write(REVISION_FILE, `${revision}\n`);
  }

  /** temp file + fsync + rename + fsync(dir): the file is the old or the new version, never half. */
  #write(name: string, text: string): void {
    writeFileAtomically(join(this.dir, name), text);
    this.#syncDir();
  }

  remove(entry: StoredResource): void {
    const r = entry.resource;
    rmSync(join(this.dir, fileName(r.kind, r.metadata.namespace, r.metadata.name)), { force: true });
    this.#syncDir();
  }

  /** Everything stored, re-validated; files that are not valid any more are reported, not loaded. */
  load(): { entries: StoredResource[]; issues: ConfigIssue[]; revision: number } {
    const entries: StoredResource[] = [];
    const issues: ConfigIssue[] = [];
    let revision = 0;
    try {
      revision = Number.parseInt(readFileSync(join(this.dir, REVISION_FILE), 'utf8'), 10) || 0;
    } catch { /* first start, or written by an older version: the resources' versions still count */ }
    for (const f of readdirSync(this.dir).sort()) {
      const path = join(this.dir, f);
      // Left by a crash between write and rename: the rename never happened, the old file stands.
      if (f.startsWith('.tmp-')) { rmSync(path, { force: true }); continue; }
      if (!f.endsWith('.json')) continue;
      let parsed: { owner?: unknown; resource?: { metadata?: { resourceVersion?: unknown; creationTimestamp?: unknown } } };
      try {
        parsed = JSON.parse(readFileSync(path, 'utf8'));
      } catch (e) {
        issues.push({ resource: path, path: '', message: `cannot read stored resource: ${(e as Error).message}`, severity: 'error', source: path });
        continue;
      }
      const v = validateResource({ value: parsed.resource, origin: path });
      if (!v.resource) { issues.push(...v.issues); continue; }
      const meta = parsed.resource?.metadata ?? {};
      if (typeof meta.resourceVersion === 'string') v.resource.metadata.resourceVersion = meta.resourceVersion;
      if (typeof meta.creationTimestamp === 'string') v.resource.metadata.creationTimestamp = meta.creationTimestamp;
      entries.push({ resource: v.resource, owner: API_OWNER });
    }
    return { entries, issues, revision };
  }

  #syncDir(): void {
    // The rename is durable only once the directory entry is.
    const fd = openSync(this.dir, 'r');
    try { fsyncSync(fd); } finally { closeSync(fd); }
  }
}

/** Names and namespaces are DNS-1123, so "Kind_namespace_name.json" is unambiguous and safe. */
function fileName(kind: string, namespace: string, name: string): string {
  return `${kind}_${namespace}_${name}.json`;
}
