import type { ChildProcess } from 'node:child_process';

/** One request/reply over a child's IPC channel, matched by id. */
export interface IpcRequest { id: number; cmd: string; [k: string]: unknown }

let nextId = 0;

export function request<T>(child: ChildProcess, cmd: string, args: Record<string, unknown> = {}, timeoutMs = 120_000): Promise<T> {
  const id = ++nextId;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.off('message', onMessage); reject(new Error(`${cmd}: no reply within ${timeoutMs} ms`)); }, timeoutMs);
    function onMessage(msg: unknown): void {
      const m = msg as { id?: number; error?: string };
      if (m.id !== id) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      if (m.error) reject(new Error(`${cmd}: ${m.error}`)); else resolve(m as T);
    }
    child.on('message', onMessage);
    child.send({ id, cmd, ...args });
  });
}

/** In a child: answers requests with `handle`'s result (or its error). */
export function serve(handle: (req: IpcRequest) => Promise<Record<string, unknown>>): void {
  process.on('message', (msg: IpcRequest) => {
    handle(msg).then(
      (reply) => process.send!({ id: msg.id, ...reply }),
      (err: Error) => process.send!({ id: msg.id, error: err.stack ?? String(err) }),
    );
  });
  process.on('disconnect', () => process.exit(0)); // the parent went away: never linger
}
