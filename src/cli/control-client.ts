/** The CLI's side of the control plane's HTTP API: one request, JSON back, errors as CliFailure. */

export const DEFAULT_CONTROL = 'http://127.0.0.1:15014';

/** A failure to report to the user (already worded) with the exit code it deserves. */
export class CliFailure extends Error {
  constructor(message: string, readonly details: readonly string[] = [], readonly exitCode = 1) {
    super(message);
  }
}

export interface ApiErrorBody { error?: string; details?: string[] }

export async function callControl<T>(control: string, method: string, path: string, body?: string): Promise<T> {
  const url = new URL(path, control.endsWith('/') ? control : `${control}/`);
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      ...(body !== undefined ? { body, headers: { 'content-type': 'application/json' } } : {}),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new CliFailure(`cannot reach the control plane at ${control}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliFailure(`unexpected answer from ${url} (HTTP ${res.status}): ${text.slice(0, 200)}`);
  }
  if (!res.ok) {
    const b = json as ApiErrorBody;
    throw new CliFailure(b.error ?? `HTTP ${res.status}`, b.details ?? []);
  }
  return json as T;
}
