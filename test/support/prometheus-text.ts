/** One sample of Prometheus text exposition format. */
export interface Sample { readonly name: string; readonly labels: Readonly<Record<string, string>>; readonly value: number }

/** Parses the samples of a Prometheus text page (comments and blank lines skipped). */
export function parsePrometheus(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The samples called `name` whose labels include every one of `want`. */
export function select(samples: readonly Sample[], name: string, want: Readonly<Record<string, string>> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(want).every(([k, v]) => s.labels[k] === v));
}

/** The sum of the selected samples' values. */
export function total(samples: readonly Sample[], name: string, want: Readonly<Record<string, string>> = {}): number {
  return select(samples, name, want).reduce((a, s) => a + s.value, 0);
}
