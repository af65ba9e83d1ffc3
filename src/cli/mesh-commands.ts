/*
 * The operator's config commands, talking to `tsmesh control` over its HTTP API (--control):
 * apply, get, delete, analyze (analyze also works offline on files with -f). Exit codes: 0 ok,
 * 1 validation / analysis errors or a failed request, 2 usage (UsageError from args.ts).
 */
import { KINDS, type Kind, type MeshResource } from '../control/config/kinds.js';
import { resolveKind, validateAll, DEFAULT_NAMESPACE } from '../control/config/validate.js';
import { analyze } from '../control/config/analyze.js';
import { formatIssue, formatWithSeverity, type ConfigIssue } from '../control/config/issues.js';
import type { ResourceOutcome } from '../control/config/store.js';
import { parseArgs, one, UsageError, type ParsedArgs } from './args.js';
import { callControl, CliFailure, DEFAULT_CONTROL } from './control-client.js';
import { readInputs } from './inputs.js';
import { renderJson, renderTable, renderYaml } from './get-table.js';


interface Out { stdout(s: string): void; stderr(s: string): void }
const io: Out = { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) };

const COMMON = { values: ['filename', 'namespace', 'output', 'control'], booleans: [], short: { f: 'filename', n: 'namespace', o: 'output' } } as const;

function control(a: ParsedArgs): string {
  return one(a, 'control') ?? process.env['TSMESH_CONTROL'] ?? DEFAULT_CONTROL;
}

/** Runs one of apply / get / delete / analyze; resolves with the exit code. */
export async function runMeshCommand(cmd: 'apply' | 'get' | 'delete' | 'analyze', argv: readonly string[], out: Out = io): Promise<number> {
  const a = parseArgs(argv, { ...COMMON, values: [...COMMON.values], booleans: [...COMMON.booleans] });
  try {
    switch (cmd) {
      case 'apply': return await apply(a, out);
      case 'get': return await get(a, out);
      case 'delete': return await del(a, out);
      case 'analyze': return await analyzeCmd(a, out);
    }
  } catch (e) {
    if (!(e instanceof CliFailure)) throw e;
    out.stderr(`${e.message}\n${e.details.map((d) => `${d}\n`).join('')}`);
    return e.exitCode;
  }
}

function printOutcomes(results: readonly ResourceOutcome[], out: Out): number {
  let code = 0;
  for (const r of results) {
    const line = `${r.kind} ${r.namespace}/${r.name} ${r.result}\n`;
    if (r.result === 'not found') { out.stderr(line); code = 1; } else out.stdout(line);
  }
  return code;
}

function failOnIssues(issues: readonly ConfigIssue[], what: string): void {
  if (issues.length) throw new CliFailure(`${what}:`, issues.map(formatIssue));
}

async function apply(a: ParsedArgs, out: Out): Promise<number> {
  const files = a.flags.get('filename') ?? [];
  if (files.length === 0) throw new UsageError('apply: -f FILE|DIR|- is required');
  if (a.positional.length) throw new UsageError(`apply: unexpected argument ${JSON.stringify(a.positional[0])}`);
  const { documents, issues } = readInputs(files);
  // Validated here too, so errors can name files; the control plane validates again regardless.
  const validated = validateAll(documents);
  failOnIssues([...issues, ...validated.issues], 'invalid configuration, nothing was applied');
  if (documents.length === 0) throw new CliFailure('no resources found in the input');
  const res = await callControl<{ results: ResourceOutcome[] }>(control(a), 'POST', '/api/v1/apply', JSON.stringify(documents.map((d) => d.value)));
  return printOutcomes(res.results, out);
}

function kindArg(name: string | undefined, cmd: string): Kind {
  if (!name) throw new UsageError(`${cmd}: KIND is required`);
  const k = resolveKind(name);
  if (!k) throw new UsageError(`${cmd}: unknown kind ${JSON.stringify(name)} (known: ${Object.keys(KINDS).join(', ')})`);
  return k;
}

async function get(a: ParsedArgs, out: Out): Promise<number> {
  const [kindName, name, ...extra] = a.positional;
  if (extra.length) throw new UsageError(`get: unexpected argument ${JSON.stringify(extra[0])}`);
  const kind = kindArg(kindName, 'get');
  const output = one(a, 'output');
  if (output !== undefined && output !== 'yaml' && output !== 'json') throw new UsageError(`get: -o must be yaml or json, got ${JSON.stringify(output)}`);
  const ns = one(a, 'namespace');
  let items: MeshResource[];
  if (name) {
    items = [await callControl<MeshResource>(control(a), 'GET', `/api/v1/resources/${kind}/${encodeURIComponent(ns ?? DEFAULT_NAMESPACE)}/${encodeURIComponent(name)}`)];
  } else {
    items = (await callControl<{ items: MeshResource[] }>(control(a), 'GET', `/api/v1/resources/${kind}${ns ? `?namespace=${encodeURIComponent(ns)}` : ''}`)).items;
  }
  if (output === 'yaml') out.stdout(renderYaml(items));
  else if (output === 'json') out.stdout(renderJson(items, name !== undefined));
  else if (items.length === 0) out.stderr(`No ${KINDS[kind].plural} found${ns ? ` in namespace ${ns}` : ''}.\n`);
  else out.stdout(renderTable(kind, items, new Date()));
  return 0;
}

async function del(a: ParsedArgs, out: Out): Promise<number> {
  const files = a.flags.get('filename') ?? [];
  if (files.length) {
    if (a.positional.length) throw new UsageError('delete: give either -f FILE or KIND NAME, not both');
    const { documents, issues } = readInputs(files);
    failOnIssues(issues, 'cannot read the input, nothing was deleted');
    const res = await callControl<{ results: ResourceOutcome[] }>(control(a), 'POST', '/api/v1/delete', JSON.stringify(documents.map((d) => d.value)));
    return printOutcomes(res.results, out);
  }
  const [kindName, name, ...extra] = a.positional;
  const kind = kindArg(kindName, 'delete');
  if (!name) throw new UsageError('delete: NAME is required (or -f FILE)');
  if (extra.length) throw new UsageError(`delete: unexpected argument ${JSON.stringify(extra[0])}`);
  const ns = one(a, 'namespace') ?? DEFAULT_NAMESPACE;
  const res = await callControl<{ results: ResourceOutcome[] }>(control(a), 'DELETE', `/api/v1/resources/${kind}/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`);
  return printOutcomes(res.results, out);
}

async function analyzeCmd(a: ParsedArgs, out: Out): Promise<number> {
  if (a.positional.length) throw new UsageError(`analyze: unexpected argument ${JSON.stringify(a.positional[0])}`);
  const files = a.flags.get('filename') ?? [];
  let issues: ConfigIssue[];
  if (files.length) {
    const { documents, issues: parseIssues } = readInputs(files);
    const validated = validateAll(documents);
    issues = [...parseIssues, ...validated.issues, ...analyze(validated.resources)];
  } else {
    // Files of the config directory that were skipped are problems with the mesh config too.
    const [analysis, skipped] = await Promise.all([
      callControl<{ issues: ConfigIssue[] }>(control(a), 'GET', '/api/v1/analyze'),
      callControl<{ errors: ConfigIssue[] }>(control(a), 'GET', '/api/v1/config-errors'),
    ]);
    issues = [...skipped.errors, ...analysis.issues];
  }
  for (const i of issues) out.stdout(`${formatWithSeverity(i)}\n`);
  if (issues.length === 0) out.stdout('No issues found.\n');
  return issues.some((i) => i.severity === 'error') ? 1 : 0;
}
