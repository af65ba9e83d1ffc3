/**
 * Emitted on each open downstream socket when its listener drains: the codec on it finishes
 * what is in flight and closes (HTTP/1.1: `connection: close` on the next response, or at once
 * when idle; HTTP/2: GOAWAY). Raw TCP sessions run on until the drain time ends.
 */
export const DRAIN_EVENT = 'tsmesh:drain';
