/**
 * One host's health-check connection and the checks sent over it: the I/O half of active
 * health checking. The session (session.ts) runs the timer and the state machine.
 */
import type { FailureType } from './transition.js';
import type { UpstreamTransport } from '../../tls/upstream-transport.js';

export type ProbeResult =
  | { readonly ok: true }
  | {
    readonly ok: false; readonly type: FailureType; readonly retriable: boolean; readonly detail: string;
    /** The failing answer carried x-envoy-immediate-health-check-fail: the host is excluded too. */
    readonly excluded?: boolean;
  };

export interface Probe {
  /** Runs one check. Never rejects: a failure is a result. */
  check(): Promise<ProbeResult>;
  /** The check timed out or the host went away: drop the connection (a late result is ignored). */
  abort(): void;
  close(): void;
}

export interface ProbeTarget {
  readonly address: string;
  readonly port: number;
  /** The host's TLS transport socket, when the cluster gives it one: checks ride it too. */
  readonly transport?: UpstreamTransport | undefined;
}

export const OK: ProbeResult = { ok: true };

export function networkFailure(detail: string): ProbeResult {
  return { ok: false, type: 'network', retriable: false, detail };
}

export function activeFailure(detail: string, retriable = false): Extract<ProbeResult, { ok: false }> {
  return { ok: false, type: 'active', retriable, detail };
}
