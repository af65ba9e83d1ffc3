/** The proxy's own log (not access logs): leveled lines on stderr, level changeable at run time. */
export const LEVELS = ['trace', 'debug', 'info', 'warning', 'error', 'critical', 'off'] as const;
export type Level = (typeof LEVELS)[number];

let current: Level = 'info';

export function setLevel(l: string): boolean {
  if (!(LEVELS as readonly string[]).includes(l)) return false;
  current = l as Level;
  return true;
}

export function level(): Level {
  return current;
}

function write(l: Level, msg: string): void {
  if (LEVELS.indexOf(l) < LEVELS.indexOf(current)) return;
  process.stderr.write(`[${new Date().toISOString()}][${l}] ${msg}\n`);
}

export const log = {
  debug: (m: string) => write('debug', m),
  info: (m: string) => write('info', m),
  warn: (m: string) => write('warning', m),
  error: (m: string) => write('error', m),
};
