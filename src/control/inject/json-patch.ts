/*
 * RFC 6902 JSON Patch: the diff the injection webhook answers with (original pod → injected
 * pod), and an apply for tests and for kube-inject's YAML. The diff only emits add, remove and
 * replace, with array elements compared by index: injection appends, so that stays minimal.
 */
import { isObject, jsonEqual, type Json } from './json.js';

export type PatchOp =
  | { readonly op: 'add' | 'replace' | 'test'; readonly path: string; readonly value: Json }
  | { readonly op: 'remove'; readonly path: string };

/** One path segment escaped for a JSON Pointer (RFC 6901 §3: `~` → `~0`, `/` → `~1`). */
export function escapeToken(t: string | number): string {
  return String(t).replace(/~/g, '~0').replace(/\//g, '~1');
}

export function toPointer(tokens: readonly (string | number)[]): string {
  return tokens.map((t) => `/${escapeToken(t)}`).join('');
}

/** Splits a JSON Pointer into its unescaped segments; throws on a pointer that does not start with `/`. */
export function parsePointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw new Error(`JSON pointer ${JSON.stringify(p)} must start with "/"`);
  return p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** A diff operation with its path as segments (numbers index arrays). */
export interface PathOp { readonly op: 'add' | 'replace' | 'remove'; readonly path: readonly (string | number)[]; readonly value?: Json }

/** The operations that turn `from` into `to`. Pure. */
export function diffPaths(from: Json, to: Json, at: readonly (string | number)[] = []): PathOp[] {
  if (jsonEqual(from, to)) return [];
  if (isObject(from) && isObject(to)) {
    const ops: PathOp[] = [];
    for (const k of Object.keys(from)) if (!Object.hasOwn(to, k)) ops.push({ op: 'remove', path: [...at, k] });
    for (const [k, v] of Object.entries(to)) {
      ops.push(...(Object.hasOwn(from, k) ? diffPaths(from[k]!, v, [...at, k]) : [{ op: 'add' as const, path: [...at, k], value: v }]));
    }
    return ops;
  }
  if (Array.isArray(from) && Array.isArray(to)) {
    const ops: PathOp[] = [];
    const common = Math.min(from.length, to.length);
    for (let i = 0; i < common; i++) ops.push(...diffPaths(from[i]!, to[i]!, [...at, i]));
    for (let i = common; i < to.length; i++) ops.push({ op: 'add', path: [...at, i], value: to[i]! });
    // From the end, so that each index is still valid when its remove applies.
    for (let i = from.length - 1; i >= common; i--) ops.push({ op: 'remove', path: [...at, i] });
    return ops;
  }
  return [{ op: 'replace', path: at, value: to }];
}

/** RFC 6902 operations that turn `from` into `to`. Pure. */
export function diff(from: Json, to: Json): PatchOp[] {
  return diffPaths(from, to).map((o) => (o.op === 'remove' ? { op: 'remove', path: toPointer(o.path) } : { op: o.op, path: toPointer(o.path), value: o.value! }));
}

/**
 * Applies RFC 6902 `add`, `remove`, `replace` and `test` to a copy of `doc`; throws with the
 * failing operation's index on a path that does not exist or a failed test. Pure.
 */
export function applyPatch(doc: Json, ops: readonly PatchOp[]): Json {
  let root: Json = structuredClone(doc);
  ops.forEach((o, n) => {
    const fail = (why: string): never => { throw new Error(`patch operation ${n} (${o.op} ${o.path}): ${why}`); };
    const tokens = parsePointer(o.path);
    if (tokens.length === 0) {
      if (o.op === 'remove') fail('cannot remove the document root');
      else if (o.op === 'test') { if (!jsonEqual(root, o.value)) fail('test failed'); } else root = structuredClone(o.value);
      return;
    }
    let parent: Json = root;
    for (const t of tokens.slice(0, -1)) {
      const next: Json | undefined = Array.isArray(parent) ? parent[arrayIndex(t, parent.length - 1, fail)] : isObject(parent) && Object.hasOwn(parent, t) ? parent[t] : undefined;
      if (next === undefined) fail(`no value at ${JSON.stringify(t)}`);
      parent = next!;
    }
    const last = tokens[tokens.length - 1]!;
    if (Array.isArray(parent)) {
      const i = last === '-' && o.op === 'add' ? parent.length : arrayIndex(last, o.op === 'add' ? parent.length : parent.length - 1, fail);
      if (o.op === 'add') parent.splice(i, 0, structuredClone(o.value));
      else if (o.op === 'replace') parent[i] = structuredClone(o.value);
      else if (o.op === 'remove') parent.splice(i, 1);
      else if (!jsonEqual(parent[i], o.value)) fail('test failed');
    } else if (isObject(parent)) {
      const has = Object.hasOwn(parent, last);
      if (o.op !== 'add' && !has) fail(`no member ${JSON.stringify(last)}`);
      if (o.op === 'add' || o.op === 'replace') parent[last] = structuredClone(o.value);
      else if (o.op === 'remove') delete parent[last];
      else if (!jsonEqual(parent[last], o.value)) fail('test failed');
    } else {
      fail('parent is not an object or array');
    }
  });
  return root;
}

function arrayIndex(t: string, max: number, fail: (why: string) => never): number {
  if (!/^(0|[1-9][0-9]*)$/.test(t)) fail(`${JSON.stringify(t)} is not an array index`);
  const i = Number(t);
  if (i > max) fail(`index ${i} is out of range`);
  return i;
}
