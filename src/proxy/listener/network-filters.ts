import type net from 'node:net';
import type { ConnectionInfo } from '../http/conn-manager/connection-info.js';

/**
 * Set on an accepted socket by a filter that hands its handle to another stream (a TLS
 * transport socket): the listener must then not resume the raw socket, which would read the
 * bytes meant for the TLS layer.
 */
export const HANDLE_TAKEN = Symbol('tsmesh.handleTaken');
export type MaybeTaken = { [HANDLE_TAKEN]?: boolean };

/** A network filter instance bound to one filter chain: the terminal one takes the connection. */
export interface NetworkFilter {
  onConnection(socket: net.Socket, info: ConnectionInfo, initial?: Buffer): void;
}

/** A network filter before the terminal one: sees each new connection and may close it. */
export interface NetworkReadFilter {
  /** False when the connection must go no further (the filter has closed it). */
  onNewConnection(socket: net.Socket, info: ConnectionInfo): boolean;
}

/**
 * A filter chain with filters before its terminal filter, run in order on each new connection.
 * Chains without any are just their terminal filter, so they pay nothing for this.
 */
export function chainOf(readFilters: readonly NetworkReadFilter[], terminal: NetworkFilter): NetworkFilter {
  if (readFilters.length === 0) return terminal;
  return {
    onConnection(socket, info, initial) {
      for (let i = 0; i < readFilters.length; i++) if (!readFilters[i]!.onNewConnection(socket, info)) return;
      terminal.onConnection(socket, info, initial);
    },
  };
}
