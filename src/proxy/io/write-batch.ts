import type { Writable } from 'node:stream';

/*
 * Holds a socket's writes until the end of the current event-loop turn, as Envoy does (its
 * connections write when the dispatcher gets to their write event, not inside the read that
 * produced the bytes).
 *
 * Why: on loopback a write(2) that finds its reader asleep also wakes it (an inter-processor
 * interrupt; on a virtual machine, a VM exit), and that costs more than copying the bytes.
 * Flushing, at the end of the turn, what every connection that was readable in one poll has
 * to send wakes each peer once per turn rather than once per request, and the peer then reads
 * a batch. Nothing waits on a timer: `setImmediate` callbacks run right after the poll phase,
 * so a lone request waits only for the rest of its own turn. Order on a socket is kept (a
 * corked socket queues every write in order), and end() flushes what is held before the FIN.
 * The HTTP/2 codec batches its frames the same way (src/proxy/http/h2/frame-writer.ts).
 */

const held: Writable[] = [];
let scheduled = false;
const HELD = Symbol('tsmesh.heldWrites');

interface Holdable { [HELD]?: boolean }

function flushAll(): void {
  scheduled = false;
  // Writes made while flushing (a write callback) go into the next batch.
  const list = held.splice(0);
  for (const s of list) releaseWrites(s);
}

/** Corks `socket` until the end of this event-loop turn; call it before writing. */
export function holdWrites(socket: Writable): void {
  const h = socket as Writable & Holdable;
  if (h[HELD] === true) return;
  h[HELD] = true;
  socket.cork();
  held.push(socket);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushAll);
  }
}

/** Sends what `socket` holds now (before a destroy(), which would drop it). */
export function releaseWrites(socket: Writable): void {
  const h = socket as Writable & Holdable;
  if (h[HELD] !== true) return;
  h[HELD] = false;
  // end() uncorks by itself; a second uncork() would then be a no-op anyway.
  if (socket.writableCorked > 0) socket.uncork();
}
