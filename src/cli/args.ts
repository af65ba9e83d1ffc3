/** A tiny flag parser: `--name value`, `--name=value`, `--flag`, repeated flags collect. */
export interface ParsedArgs {
  readonly flags: ReadonlyMap<string, string[]>;
  readonly positional: readonly string[];
}

export class UsageError extends Error {}

export function parseArgs(argv: readonly string[], spec: { values: readonly string[]; booleans: readonly string[]; short?: Readonly<Record<string, string>> }): ParsedArgs {
  const flags = new Map<string, string[]>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i]!;
    if (a === '--') { positional.push(...argv.slice(i + 1)); break; }
    if (spec.short && /^-[a-zA-Z]$/.test(a)) a = `--${spec.short[a.slice(1)] ?? a.slice(1)}`;
    if (!a.startsWith('--')) { positional.push(a); continue; }
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    if (spec.booleans.includes(name)) { flags.set(name, ['true']); continue; }
    if (!spec.values.includes(name)) throw new UsageError(`unknown flag --${name}`);
    const value = eq >= 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    flags.set(name, [...(flags.get(name) ?? []), value]);
  }
  return { flags, positional };
}

export function one(p: ParsedArgs, name: string): string | undefined {
  const v = p.flags.get(name);
  return v ? v[v.length - 1] : undefined;
}

export function int(p: ParsedArgs, name: string, def: number, min = 0, max = 1 << 30): number {
  const v = one(p, name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name}: expected an integer ${min}-${max}, got ${JSON.stringify(v)}`);
  return n;
}
