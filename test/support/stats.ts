/** A stat's value from /stats text (`name: value`); 0 when absent. */
export function statValue(statsText: string, name: string): number {
  const line = statsText.split('\n').find((l) => l.startsWith(`${name}: `));
  return line ? Number(line.slice(name.length + 2)) : 0;
}

/** Polls /stats until `name` has `want` (bounded); returns the last value seen. */
export async function waitForStat(admin: (p: string) => Promise<{ body: string }>, name: string, want: number, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let v = NaN;
  while (Date.now() < deadline) {
    v = statValue((await admin('/stats')).body, name);
    if (v === want) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  return v;
}
