/*
 * kube-inject: every workload with a pod template in a multi-document YAML stream gets its
 * sidecar; every other document, and every part of a workload the injector does not own, is
 * kept as written (comments included): the changes are applied to the parsed YAML document
 * as the same JSON Patch the webhook would answer with, and untouched documents are copied
 * byte for byte. Pure (text in, text out).
 */
import { parseAllDocuments, isMap, isSeq, type Document } from 'yaml';
import { diffPaths, type PathOp } from './json-patch.js';
import { InjectError, fieldPath, isObject, type Json } from './json.js';
import { injectPod } from './inject-pod.js';
import type { InjectOptions } from './options.js';

/** Where the pod template sits in each workload kind. */
const TEMPLATE_PATHS: Readonly<Record<string, readonly string[]>> = {
  Pod: [],
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

export interface WorkloadOutcome {
  /** `Kind namespace/name` of the workload (inside a List: the item). */
  readonly workload: string;
  readonly injected: boolean;
  /** Why not, when not injected. */
  readonly reason?: string;
}

export interface InjectedDocuments {
  readonly text: string;
  readonly workloads: readonly WorkloadOutcome[];
  readonly warnings: readonly string[];
}

/**
 * Injects every Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job
 * and CronJob in `text` (also inside `kind: List` / `*List` items). Throws InjectError whose
 * path names the source, the document and the field, for YAML that does not parse or a
 * workload that cannot be injected; nothing is written then.
 */
export function injectDocuments(text: string, opts: InjectOptions, source = 'stdin'): InjectedDocuments {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return { text, workloads: [], warnings: [] };
  const workloads: WorkloadOutcome[] = [];
  const warnings: string[] = [];
  let out = '';
  let from = 0;
  docs.forEach((doc, n) => {
    const where = `${source}: document ${n + 1}`;
    if (doc.errors.length) throw new InjectError('', `${where}: ${doc.errors[0]!.message}`);
    const end = doc.range[2];
    const value = doc.toJS({ maxAliasCount: 100 }) as Json;
    const ops: PathOp[] = [];
    try {
      collect(value, [], { opts, ops, workloads, warnings });
    } catch (e) {
      if (e instanceof InjectError) throw new InjectError(`${where}${e.path ? ` ${e.path}` : ''}`, e.reason);
      throw e;
    }
    if (ops.length === 0) {
      out += text.slice(from, end);
    } else {
      for (const op of ops) applyToYaml(doc, op);
      out += doc.toString({ lineWidth: 0, indentSeq: indentsSequences(text.slice(from, end)), flowCollectionPadding: false });
    }
    from = end;
  });
  out += text.slice(from);
  return { text: out, workloads, warnings };
}

interface Collected { readonly opts: InjectOptions; readonly ops: PathOp[]; readonly workloads: WorkloadOutcome[]; readonly warnings: string[] }

function collect(value: Json, at: readonly (string | number)[], c: Collected): void {
  const { opts, ops, workloads, warnings } = c;
  if (!isObject(value)) return;
  const kind = value['kind'];
  if (typeof kind !== 'string') return;
  if (/List$/.test(kind) && Array.isArray(value['items'])) {
    value['items'].forEach((item, i) => collect(item, [...at, 'items', i], c));
    return;
  }
  const templatePath = TEMPLATE_PATHS[kind];
  if (!templatePath) return;
  const meta = isObject(value['metadata']) ? value['metadata'] : {};
  const namespace = typeof meta['namespace'] === 'string' ? meta['namespace'] : undefined;
  const workload = `${kind} ${namespace ?? 'default'}/${typeof meta['name'] === 'string' ? meta['name'] : '(unnamed)'}`;
  let template: Json | undefined = value;
  for (const k of templatePath) template = isObject(template) ? template[k] : undefined;
  const templateAt = [...at, ...templatePath];
  if (!isObject(template)) throw new InjectError(`${workload}: ${fieldPath(templateAt)}`, 'missing: the pod template');
  let result;
  try {
    result = injectPod(template, opts, namespace);
  } catch (e) {
    if (e instanceof InjectError) throw new InjectError(`${workload}: ${fieldPath([...templateAt, ...pathTokens(e.path)])}`, e.reason);
    throw e;
  }
  warnings.push(...result.warnings.map((w) => `${workload}: ${w}`));
  if (!result.injected) { workloads.push({ workload, injected: false, reason: result.reason }); return; }
  workloads.push({ workload, injected: true });
  ops.push(...diffPaths(template, result.pod, templateAt));
}

/** `spec.containers[1].name` / `metadata.annotations["a/b"]` back to tokens, to re-root an error path. */
function pathTokens(p: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of p.matchAll(/([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g)) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else out.push(JSON.parse(m[3]!) as string);
  }
  return out;
}

/** Whether the document writes block sequences indented under their key (`key:\n  - x`) rather than kubectl's `key:\n- x`. */
function indentsSequences(docText: string): boolean {
  return !/^( *)[^\s#-][^\n]*:[ \t]*\n\1- /m.test(docText);
}

/** One diff operation on the parsed YAML, so that the rest of the document keeps its comments and layout. */
function applyToYaml(doc: Document, op: PathOp): void {
  const parentPath = op.path.slice(0, -1);
  const key = op.path[op.path.length - 1]!;
  const parent = parentPath.length ? doc.getIn(parentPath, true) : doc.contents;
  if (isSeq(parent) && typeof key === 'number') {
    if (op.op === 'add') parent.items.splice(key, 0, doc.createNode(op.value));
    else if (op.op === 'replace') parent.items[key] = doc.createNode(op.value);
    else parent.items.splice(key, 1);
  } else if (isMap(parent)) {
    if (op.op === 'remove') parent.delete(key);
    else parent.set(key, doc.createNode(op.value));
  } else {
    throw new Error(`internal: cannot apply ${op.op} at ${fieldPath(op.path)}`);
  }
}

