/** The control plane's log: leveled lines on stderr. A value, not a global, so tests can capture it. */
export const LOG_LEVELS = ['debug', 'info', 'warning', 'error', 'off'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export function createLogger(level: LogLevel, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const min = LOG_LEVELS.indexOf(level);
  const at = (l: LogLevel) => (msg: string): void => {
    if (LOG_LEVELS.indexOf(l) >= min) write(`[${new Date().toISOString()}][${l}] ${msg}\n`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warning'), error: at('error') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
