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
 *
 * The common case, one message per socket per turn (a request head, a response with its small
 * body), is held as a string outside the stream and written uncorked at the flush: that skips
 * the stream's buffered-write bookkeeping (an entry per write, cork and uncork, the writev
 * path). A second write in the turn, or any write through the stream, corks the socket and
 * puts the held string in front, so order still holds. Whoever writes to, ends or destroys a
 * socket that may hold output calls holdWrites (before writing) or releaseWrites (before an
 * end() or destroy()).
 */

const held: Writable[] = [];
let scheduled = false;
const HELD = Symbol('tsmesh.heldWrites');
const TEXT = Symbol('tsmesh.heldText');

interface Holdable { [HELD]?: boolean; [TEXT]?: string | undefined }

function flushAll(): void {
  scheduled = false;
  // Writes made while flushing (a write callback) go into the next batch.
  const list = held.splice(0);
  for (const s of list) releaseWrites(s);
}

/** Marks `h` held; both properties are set, always in this order, so sockets keep one shape. */
function hold(h: Writable & Holdable, text: string | undefined): void {
  h[HELD] = true;
  h[TEXT] = text;
  held.push(h);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushAll);
  }
}

/** Corks `socket` until the end of this event-loop turn; call it before writing. */
export function holdWrites(socket: Writable): void {
  const h = socket as Writable & Holdable;
  if (h[HELD] === true) {
    if (h[TEXT] === undefined) return; // already corked
    // Held as a string so far: it goes first, the rest queues behind it in the cork.
    const text = h[TEXT];
    h[TEXT] = undefined;
    socket.cork();
    socket.write(text, 'latin1');
    return;
  }
  socket.cork();
  hold(h, undefined);
}

/** `text` (latin1) goes out at the end of this turn, after whatever was written before it. */
export function writeHeld(socket: Writable, text: string): void {
  const h = socket as Writable & Holdable;
  if (h[HELD] === true) {
    const prev = h[TEXT];
    if (prev !== undefined) h[TEXT] = prev + text;
    else socket.write(text, 'latin1'); // corked: queues in order
    return;
  }
  hold(h, text);
}

/** Sends what `socket` holds now (before an end() or destroy(); the latter would drop it). */
export function releaseWrites(socket: Writable): void {
  const h = socket as Writable & Holdable;
  if (h[HELD] !== true) return;
  h[HELD] = false;
  const text = h[TEXT];
  if (text !== undefined) {
    h[TEXT] = undefined;
    if (!socket.destroyed && !socket.writableEnded) socket.write(text, 'latin1');
    return;
  }
  // end() uncorks by itself; a second uncork() would then be a no-op anyway.
  if (socket.writableCorked > 0) socket.uncork();
}
