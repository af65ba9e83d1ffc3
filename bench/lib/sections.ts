/**
 * Sections of BENCHMARKS.md that other benchmark scripts own, between
 * `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`: each script rewrites its own and keeps
 * the others. Pure.
 */

const open = (name: string): string => `<!-- bench:${name} -->`;
const close = (name: string): string => `<!-- /bench:${name} -->`;

/** The section `name` of `text` (markers included), or undefined. */
export function findSection(text: string, name: string): string | undefined {
  const a = text.indexOf(open(name));
  if (a < 0) return undefined;
  const b = text.indexOf(close(name), a);
  return b < 0 ? undefined : text.slice(a, b + close(name).length);
}

/** `text` with section `name` set to `body` (replaced in place, else appended). */
export function setSection(text: string, name: string, body: string): string {
  const section = `${open(name)}\n${body.trim()}\n${close(name)}`;
  const old = findSection(text, name);
  if (old !== undefined) return text.replace(old, () => section);
  return `${text.trimEnd()}\n\n${section}\n`;
}

/** Every marked section of `previous`, appended to `rendered` (for a script that rewrites the whole file). */
export function keepSections(rendered: string, previous: string | undefined): string {
  if (!previous) return rendered;
  let out = rendered;
  for (const m of previous.matchAll(/<!-- bench:([\w-]+) -->/g)) {
    const name = m[1]!;
    const s = findSection(previous, name);
    if (s !== undefined && findSection(out, name) === undefined) out = `${out.trimEnd()}\n\n${s}\n`;
  }
  return out;
}
