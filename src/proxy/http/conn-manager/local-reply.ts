import type net from 'node:net';
import { HeaderMap } from '../headers.js';
import { serializeResponseHead } from '../h1/serialize.js';
import type { HcmRuntime } from './http-stream.js';
import { releaseWrites } from '../../io/write-batch.js';

/**
 * Answers an HTTP/1.1 connection that has no stream to answer through (bad input, a timeout,
 * a refused upgrade) and closes it, also when the client never closes its side.
 */
export function replyAndClose(socket: net.Socket, rt: HcmRuntime, status: number, body: string): void {
  const h = new HeaderMap(['content-length', String(body.length), 'content-type', 'text/plain', 'connection', 'close']);
  rt.stats.recordResponse(status);
  releaseWrites(socket); // a response held for this turn goes first
  socket.end(serializeResponseHead(status, undefined, h) + body, 'latin1');
  socket.destroySoon();
}
