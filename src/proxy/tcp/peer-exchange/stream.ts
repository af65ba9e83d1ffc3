/**
 * Reading the peer's exchange frame off a live socket: the frame is taken out of the stream,
 * and whatever followed it in the same chunk is put back (unshift) before anyone else reads, so
 * the application sees exactly its own bytes.
 */
import type net from 'node:net';
import { ExchangeReader, type ExchangedPeer } from './frame.js';

/**
 * How long a side waits for the peer's frame before passing the stream on without it. Both
 * sides send theirs as soon as the exchange is negotiated, so this only bounds a peer that
 * negotiated the ALPN and then says nothing; it is not a timing assumption of the protocol.
 */
export const EXCHANGE_WAIT_MS = 10_000;

export type ExchangeOutcome =
  /** The peer sent a frame (peer undefined: its payload was no Any and is passed on) of `bytes` bytes taken off the stream. */
  | { readonly kind: 'frame'; readonly peer: ExchangedPeer | undefined; readonly bytes: number }
  /** The peer does not speak the exchange, or did not finish its frame in time. */
  | { readonly kind: 'absent' };

/**
 * Reads the peer's frame from `socket` and calls `done` once, with the socket paused and every
 * byte after the frame back in its read buffer. A frame claiming an oversize payload, or a peer
 * that ends its side or closes before its frame is complete, ends the connection (`done` is then
 * not called: a half-read frame cannot be put back once the stream has ended).
 */
export function readExchangeFrame(socket: net.Socket, decode: (payload: Buffer) => ExchangedPeer | undefined, done: (outcome: ExchangeOutcome) => void): void {
  const reader = new ExchangeReader(decode);
  let finished = false;
  let total = 0;
  /** Stops listening for the frame; false when that already happened. */
  const stop = (): boolean => {
    if (finished) return false;
    finished = true;
    clearTimeout(timer);
    socket.removeListener('data', onData);
    socket.removeListener('close', onClose);
    socket.removeListener('end', onClose);
    return true;
  };
  const finish = (outcome: ExchangeOutcome, rest: Buffer | undefined): void => {
    if (!stop()) return;
    socket.pause();
    if (rest && rest.length > 0) socket.unshift(rest);
    done(outcome);
  };
  const onData = (chunk: Buffer): void => {
    total += chunk.length;
    const r = reader.push(chunk);
    if (r.kind === 'more') return;
    if (r.kind === 'oversize') { onClose(); return; }
    finish(r.kind === 'frame' ? { kind: 'frame', peer: r.peer, bytes: total - r.rest.length } : { kind: 'absent' }, r.rest);
  };
  const onClose = (): void => {
    if (stop()) socket.destroy();
  };
  const timer = setTimeout(() => finish({ kind: 'absent' }, reader.buffered), EXCHANGE_WAIT_MS);
  timer.unref();
  socket.on('data', onData);
  socket.once('end', onClose);
  socket.once('close', onClose);
  socket.resume();
}
