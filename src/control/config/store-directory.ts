/*
 * The watched config directory (--config-dir): every *.yaml / *.yml / *.json file below it is
 * a source of resources, owned by that file. Changes are picked up from fs.watch and, because
 * fs.watch misses events on some file systems and editors (rename-over, network mounts), from
 * a periodic rescan too; both only schedule a debounced scan, which re-reads files whose size,
 * mtime or content changed. A file that does not parse or validate is reported and skipped:
 * the resources it defined before stay in force. A deleted file removes its resources.
 */
import { readdirSync, readFileSync, statSync, watch, mkdirSync, type FSWatcher } from 'node:fs';
import { join, relative } from 'node:path';
import { createHash } from 'node:crypto';
import { parseResources } from './parse.js';
import type { ConfigIssue } from './issues.js';
import { formatIssue } from './issues.js';
import type { ConfigStore } from './store.js';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';

const EXTENSIONS = ['.yaml', '.yml', '.json'];

interface FileState {
  stamp: string;
  hash: string;
  /** The last attempt failed (parse/validation) or had conflicts: retried on every scan. */
  retry: boolean;
}

export interface DirectoryOptions {
  /** How long to wait after a change event before scanning (a burst of writes → one scan). */
  debounceMs?: number;
  /** The fallback rescan period. */
  rescanMs?: number;
  log?: Logger;
}

export class ConfigDirectory {
  readonly #files = new Map<string, FileState>();
  readonly #errors = new Map<string, ConfigIssue[]>();
  readonly #listeners = new Set<() => void>();
  #watcher: FSWatcher | undefined;
  #rescan: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #log: Logger;

  constructor(readonly dir: string, private readonly store: ConfigStore, private readonly opts: DirectoryOptions = {}) {
    this.#log = opts.log ?? silentLogger;
  }

  /** Creates the directory if needed, loads it once (synchronously), then watches it. */
  start(): void {
    mkdirSync(this.dir, { recursive: true });
    this.scan();
    try {
      this.#watcher = watch(this.dir, { recursive: true }, () => this.#schedule());
      this.#watcher.on('error', (e) => this.#log.warn(`config dir ${this.dir}: watch failed (${e.message}); relying on the periodic rescan`));
    } catch (e) {
      this.#log.warn(`config dir ${this.dir}: cannot watch (${(e as Error).message}); relying on the periodic rescan`);
    }
    this.#rescan = setInterval(() => this.#schedule(), this.opts.rescanMs ?? 2000);
    this.#rescan.unref();
  }

  close(): void {
    this.#closed = true;
    this.#watcher?.close();
    clearInterval(this.#rescan);
    clearTimeout(this.#debounce);
  }

  /** Files that failed to load (or conflicted with the API), with every issue, by file. */
  errors(): ConfigIssue[] {
    return [...this.#errors.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).flatMap(([, e]) => e);
  }

  /** Called after each scan that changed something (store contents or the errors list). */
  onScan(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Reads what changed since the last scan and applies it. Synchronous; safe to call any time. */
  scan(): void {
    if (this.#closed) return;
    const present = new Set<string>();
    let changed = false;
    for (const rel of this.#list()) {
      present.add(rel);
      const full = join(this.dir, rel);
      let stamp: string;
      let text: string;
      try {
        const st = statSync(full);
        stamp = `${st.size}:${st.mtimeMs}`;
        const prev = this.#files.get(rel);
        if (prev && prev.stamp === stamp && !prev.retry) continue;
        text = readFileSync(full, 'utf8');
      } catch {
        continue; // removed between listing and reading: the next scan sees it gone
      }
      const hash = createHash('sha256').update(text).digest('hex');
      const prev = this.#files.get(rel);
      if (prev && prev.hash === hash && !prev.retry) { prev.stamp = stamp; continue; }
      changed = true;
      this.#load(rel, text, stamp, hash);
    }
    for (const rel of [...this.#files.keys()]) {
      if (present.has(rel)) continue;
      changed = true;
      this.#files.delete(rel);
      this.#errors.delete(rel);
      this.store.replaceOwned(ownerOf(rel), []);
      this.#log.info(`config dir: ${rel} removed, its resources deleted`);
    }
    if (changed) for (const l of this.#listeners) l();
  }

  #load(rel: string, text: string, stamp: string, hash: string): void {
    const parsed = parseResources(text, rel);
    const resources = parsed.resources;
    const issues = parsed.issues.map((i) => ({ ...i, source: rel }));
    if (issues.length) {
      // Keep the last good version of this file's resources: the store is not touched.
      this.#errors.set(rel, issues);
      this.#files.set(rel, { stamp, hash, retry: false });
      this.#log.warn(`config dir: ${rel} skipped, the last good version of its resources stays in force:\n${issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`);
      return;
    }
    const { outcomes, conflicts } = this.store.replaceOwned(ownerOf(rel), resources);
    const withSource = conflicts.map((c) => ({ ...c, source: rel }));
    if (withSource.length) {
      const before = (this.#errors.get(rel) ?? []).map(formatIssue).join('\n');
      this.#errors.set(rel, withSource);
      // A conflicting file is retried on every scan; say so once, not every rescan.
      if (withSource.map(formatIssue).join('\n') !== before) this.#log.warn(`config dir: ${rel}: ${withSource.map(formatIssue).join('; ')}`);
    } else {
      this.#errors.delete(rel);
    }
    this.#files.set(rel, { stamp, hash, retry: withSource.length > 0 });
    const changed = outcomes.filter((o) => o.result !== 'unchanged');
    if (changed.length) this.#log.info(`config dir: ${rel}: ${changed.map((o) => `${o.kind} ${o.namespace}/${o.name} ${o.result}`).join(', ')}`);
  }

  #schedule(): void {
    if (this.#closed) return;
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      try { this.scan(); } catch (e) { this.#log.error(`config dir scan failed: ${(e as Error).message}`); }
    }, this.opts.debounceMs ?? 100);
  }

  /** Relative paths of config files, sorted; hidden files and directories (editor temps) skipped. */
  #list(): string[] {
    const out: string[] = [];
    const walk = (d: string): void => {
      let names: import('node:fs').Dirent[];
      try { names = readdirSync(d, { withFileTypes: true }); } catch { return; }
      for (const e of names) {
        if (e.name.startsWith('.')) continue;
        const full = join(d, e.name);
        if (e.isDirectory()) walk(full);
        else if (EXTENSIONS.some((x) => e.name.endsWith(x))) out.push(relative(this.dir, full));
      }
    };
    walk(this.dir);
    return out.sort();
  }
}

function ownerOf(rel: string): string {
  return `file:${rel}`;
}
