/**
 * Child processes of the benchmark: servers that run until stopped and tools that run to
 * completion. Every child is started in its own process group and recorded, so that
 * `killAllNow()` (from the exit/signal handlers) can take down whole trees (nginx master and
 * workers) whatever state the driver is in. Nothing here waits without a deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import http from 'node:http';
import http2 from 'node:http2';

const TAIL_BYTES = 16 * 1024;

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (ENOENT, EACCES). */
  error?: string;
}

/** A long-running server started by `startServer`. */
export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  /** The command line, shell-quoted, as written into the report. */
  readonly command: string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<ExitInfo>;
  /** The exit status once it has exited, else undefined. */
  exitInfo(): ExitInfo | undefined;
  /** The last few KB of what it wrote to stdout and stderr. */
  output(): string;
  /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface ToolResult {
  command: string;
  exit: ExitInfo;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

const live = new Set<ChildProcess>();

/** Quotes one argument for display in a POSIX shell. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

export function commandLine(file: string, args: readonly string[]): string {
  return [file, ...args].map(shellQuote).join(' ');
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try { child.kill(signal); } catch { /* already gone */ }
  }
}

/** SIGKILLs every child process group still running. Synchronous: safe in an 'exit' handler. */
export function killAllNow(): void {
  for (const child of live) killGroup(child, 'SIGKILL');
  live.clear();
}

interface Tracked {
  child: ChildProcess;
  /** The process has exited (it may still have output in flight). */
  exited: Promise<ExitInfo>;
  /** The process has exited and its stdout and stderr are drained. */
  closed: Promise<ExitInfo>;
}

function track(file: string, args: readonly string[], env?: NodeJS.ProcessEnv): Tracked {
  // detached: a process group of its own, so a signal reaches the whole tree and the terminal's
  // Ctrl-C reaches only the driver, which then stops everything in order.
  const child = spawn(file, [...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: env ?? process.env });
  live.add(child);
  const failed = new Promise<ExitInfo>((resolve) => {
    child.once('error', (e) => { live.delete(child); resolve({ code: null, signal: null, error: e.message }); });
  });
  const exited = Promise.race([failed, new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => { live.delete(child); resolve({ code, signal }); });
  })]);
  // 'exit' can come before the last 'data' event; 'close' comes after the pipes are drained.
  const closed = Promise.race([failed, new Promise<ExitInfo>((resolve) => {
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => resolve({ code, signal }));
  })]);
  return { child, exited, closed };
}

/** Starts a server process; it runs until `stop()` (or the driver exits). */
export function startServer(name: string, file: string, args: readonly string[], env?: NodeJS.ProcessEnv): ServerProcess {
  const { child, exited } = track(file, args, env);
  let tail = '';
  const keep = (d: Buffer): void => {
    tail += d.toString('utf8');
    if (tail.length > TAIL_BYTES) tail = tail.slice(-TAIL_BYTES);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let info: ExitInfo | undefined;
  void exited.then((i) => { info = i; });
  return {
    name,
    pid: child.pid ?? -1,
    command: commandLine(file, args),
    exited,
    exitInfo: () => info,
    output: () => tail,
    async stop(graceMs = 3000): Promise<void> {
      if (info) return;
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      // Workers that outlived their master (nginx on SIGKILL) still belong to the group.
      try { if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL'); } catch { /* none left */ }
    },
  };
}

/** Runs a tool to completion, killing its process group after `timeoutMs`. */
export async function runTool(file: string, args: readonly string[], timeoutMs: number): Promise<ToolResult> {
  const { child, closed } = track(file, args);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => { stdout += d.toString('utf8'); });
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString('utf8'); if (stderr.length > TAIL_BYTES) stderr = stderr.slice(-TAIL_BYTES); });
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; killGroup(child, 'SIGKILL'); }, timeoutMs);
  const exit = await closed;
  clearTimeout(timer);
  return { command: commandLine(file, args), exit, stdout, stderr, timedOut };
}

export function describeExit(e: ExitInfo): string {
  if (e.error) return e.error;
  return e.signal ? `killed by ${e.signal}` : `exit code ${e.code}`;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => { s.destroy(); resolve(ok); };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** True when 127.0.0.1:port can be bound right now. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** Throws, naming them, when any of `ports` is taken on 127.0.0.1 (a benchmark's ports come from --base-port). */
export async function assertPortsFree(ports: Iterable<number>): Promise<void> {
  const busy = (await Promise.all([...ports].map(async (port) => ((await portFree(port)) ? undefined : port)))).filter((x) => x !== undefined);
  if (busy.length > 0) throw new Error(`ports in use on 127.0.0.1: ${busy.join(', ')} (choose others with --base-port)`);
}

/**
 * Polls `check` every 50 ms until it returns true; rejects with `what` when the deadline
 * passes or when `server` exits first (with its exit status and last output).
 */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number, server?: ServerProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ex = server?.exitInfo();
    if (ex) throw new Error(`${describeExit(ex)} before ${what}${lastLine(server?.output() ?? '')}`);
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms${lastLine(server?.output() ?? '')}`);
    await sleep(50);
  }
}

/**
 * The most telling line of a failed process's output, prefixed with ": " for an error message
 * ("" if there is no output): an error header (Node's "Error [CODE]: ...", haproxy's [ALERT],
 * nginx's [emerg], tsmesh's "invalid configuration:" with the line after it), else the last
 * line that is not a stack frame or Node's version banner.
 */
export function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0 && !/^at\s/.test(l) && !/^Node\.js v\d/.test(l));
  const i = lines.findIndex((l) => /^\w*Error\b|\[ALERT\]|\[emerg\]|invalid configuration/.test(l));
  let line = i >= 0 ? (lines[i] ?? '') : (lines.at(-1) ?? '');
  if (i >= 0 && line.endsWith(':') && lines[i + 1] !== undefined) line = `${line} ${lines[i + 1]}`;
  return line ? `: ${line.length > 300 ? `${line.slice(0, 300)}…` : line}` : '';
}

export interface SimpleResponse { status: number; body: string }

/** One HTTP/1.1 GET on a fresh connection, with a deadline. */
export function http1Get(port: number, path: string, timeoutMs = 2000): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no response within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** One HTTP/2 GET over cleartext with prior knowledge (h2c), with a deadline. */
export function http2Get(port: number, path: string, timeoutMs = 2000): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const timer = setTimeout(() => { session.destroy(); reject(new Error(`no response within ${timeoutMs} ms`)); }, timeoutMs);
    const fail = (e: Error): void => { clearTimeout(timer); session.destroy(); reject(e); };
    session.on('error', fail);
    const req = session.request({ ':path': path, ':method': 'GET' });
    let status = 0;
    let body = '';
    req.setEncoding('utf8');
    req.on('response', (h) => { status = Number(h[':status'] ?? 0); });
    req.on('data', (c: string) => { body += c; });
    req.on('end', () => { clearTimeout(timer); session.close(); resolve({ status, body }); });
    req.on('error', fail);
    req.end();
  });
}
