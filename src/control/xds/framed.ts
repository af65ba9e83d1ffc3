/**
 * Responses written to a gRPC stream already framed (the 5-byte length prefix of gRPC over
 * HTTP/2, then the message), so that one push writes the same Buffer to every stream that gets
 * the same response instead of grpc-js copying the message into a fresh frame per stream.
 * For a route change to 1,000 loopback sidecars that copy was 328 MB per push, and the
 * collections its garbage (external memory) set off as much CPU again.
 *
 * grpc-js has no public API for this: BaseServerInterceptingCall.serializeMessage (grpc-js
 * 1.14) frames every message it sends. It is wrapped so that a FramedMessage (a class only this
 * module creates) passes through as its frame; every other message is framed by grpc-js as
 * before. If grpc-js no longer has that method, nothing is wrapped and the ADS server writes
 * plain messages (framedWrites() says which); test/control/xds/framed.test.ts fails then, so an
 * upgrade that loses the fast path is noticed.
 */
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';

/** A serialized message with its gRPC frame: written as-is by a grpc-js server (see above). */
export class FramedMessage {
  private constructor(readonly frame: Buffer) {}

  /** The message without its prefix (a view of the frame). */
  get message(): Uint8Array { return this.frame.subarray(5); }

  static #of = new WeakMap<Uint8Array, FramedMessage>();

  /** The concatenation of `parts`, encoded in a frame from the start (no copy for of() later). */
  static concat(parts: readonly Uint8Array[]): Uint8Array {
    let n = 0;
    for (const p of parts) n += p.byteLength;
    const frame = FramedMessage.#header(n);
    let at = 5;
    for (const p of parts) { frame.set(p, at); at += p.byteLength; }
    const f = new FramedMessage(frame);
    const message = f.message;
    FramedMessage.#of.set(message, f);
    return message;
  }

  static #header(length: number): Buffer {
    // Not from Buffer's shared pool: a frame is kept while its response is.
    const frame = Buffer.allocUnsafeSlow(length + 5);
    frame[0] = 0; // not compressed
    frame.writeUInt32BE(length, 1);
    return frame;
  }

  /**
   * The frame of `message`: built once per message object (one copy; a shared response is one
   * object for all the streams that get it) and kept while the message is.
   */
  static of(message: Uint8Array): FramedMessage {
    let f = FramedMessage.#of.get(message);
    if (!f) {
      const frame = FramedMessage.#header(message.byteLength);
      frame.set(message, 5);
      f = new FramedMessage(frame);
      FramedMessage.#of.set(message, f);
    }
    return f;
  }
}

type SerializeMessage = (this: unknown, value: unknown) => Buffer;

let active: boolean | undefined;

/** Installs the pass-through (once); whether framed messages can be written to grpc-js server streams. */
export function framedWrites(): boolean {
  if (active !== undefined) return active;
  active = false;
  try {
    const require = createRequire(import.meta.url);
    const mod = require('@grpc/grpc-js/build/src/server-interceptors.js') as {
      BaseServerInterceptingCall?: { prototype: { serializeMessage?: SerializeMessage } };
      ServerInterceptingCall?: unknown;
    };
    const proto = mod.BaseServerInterceptingCall?.prototype;
    // The same module instance as the grpc-js this process serves with, and the method as known.
    if (mod.ServerInterceptingCall !== grpc.ServerInterceptingCall || typeof proto?.serializeMessage !== 'function' || proto.serializeMessage.length !== 1) return false;
    const original = proto.serializeMessage;
    proto.serializeMessage = function serializeMessage(this: unknown, value: unknown): Buffer {
      return value instanceof FramedMessage ? value.frame : original.call(this, value);
    };
    active = true;
  } catch {
    active = false;
  }
  return active;
}
