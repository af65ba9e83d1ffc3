/*
 * Kubernetes objects checked as `kubectl apply --dry-run` with strict field validation would:
 * against the Kubernetes OpenAPI schema as the npm package `kubernetes-models` ships it
 * (compiled validators: required fields, types, enums, formats), plus unknown fields, which
 * that schema lets through: every key must be a field of its type, read from the same
 * package's type declarations (one interface per OpenAPI definition).
 */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ModelClass { new (data: unknown): { validate(): void } }

const ROOT = dirname(fileURLToPath(import.meta.resolve('kubernetes-models')));

/** Where a group/version/kind's model lives in kubernetes-models: apps/v1/Deployment, v1/Pod (core). */
function modelPath(apiVersion: string, kind: string): string {
  return `${apiVersion}/${kind}`;
}

/** Problems with one object; empty when it is valid. */
export async function validateObject(obj: unknown): Promise<string[]> {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return ['not an object'];
  const { apiVersion, kind } = obj as { apiVersion?: unknown; kind?: unknown };
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return ['apiVersion and kind are required'];
  const rel = modelPath(apiVersion, kind);
  if (!existsSync(join(ROOT, `${rel}.js`))) return [`unknown apiVersion/kind ${apiVersion} ${kind}`];
  const mod = (await import(`kubernetes-models/${rel}`)) as Record<string, ModelClass>;
  const Model = mod[kind]!;
  const issues: string[] = [];
  try {
    new Model(obj).validate();
  } catch (e) {
    issues.push((e as Error).message);
  }
  unknownFields(obj, join(ROOT, `${rel}.d.ts`), '', issues);
  return issues;
}

interface TypeInfo { fields: Map<string, string> | undefined; imports: Map<string, string> }
const cache = new Map<string, TypeInfo>();

/** The fields of the interface declared in a model's .d.ts (undefined for a type alias such as IntOrString). */
function typeInfo(file: string): TypeInfo {
  let info = cache.get(file);
  if (info) return info;
  const text = readFileSync(file, 'utf8');
  const imports = new Map<string, string>();
  for (const m of text.matchAll(/^import \{ (\w+) \} from "([^"]+)";$/gm)) {
    const spec = m[2]!;
    imports.set(m[1]!, spec.startsWith('.') ? join(dirname(file), `${spec}.d.ts`) : packageFile(spec));
  }
  const body = /^export interface \w+(?: extends [\w, ]+)? \{\n([\s\S]*?)^\}/m.exec(text)?.[1];
  let fields: Map<string, string> | undefined;
  if (body !== undefined) {
    fields = new Map();
    for (const m of body.matchAll(/^ {4}"([^"]+)"\??: ([^\n]+?);?$/gm)) fields.set(m[1]!, m[2]!);
  }
  info = { fields, imports };
  cache.set(file, info);
  return info;
}

function packageFile(spec: string): string {
  const parts = spec.split('/');
  const pkg = spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  const rest = parts.slice(pkg.split('/').length).join('/');
  const pkgRoot = dirname(fileURLToPath(import.meta.resolve(`${pkg}`, `file://${ROOT}/index.js`)));
  return join(pkgRoot, `${rest}.d.ts`);
}

function unknownFields(value: unknown, file: string, at: string, issues: string[]): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
  const { fields, imports } = typeInfo(file);
  if (!fields) return;
  for (const [k, v] of Object.entries(value)) {
    const type = fields.get(k);
    const path = at ? `${at}.${k}` : k;
    if (type === undefined) { issues.push(`${path}: unknown field`); continue; }
    const arr = /^Array<(\w+)>$/.exec(type);
    const name = arr ? arr[1]! : type;
    const target = imports.get(name);
    if (!target) continue;
    if (arr) { if (Array.isArray(v)) v.forEach((x, i) => unknownFields(x, target, `${path}[${i}]`, issues)); } else unknownFields(v, target, path, issues);
  }
}
