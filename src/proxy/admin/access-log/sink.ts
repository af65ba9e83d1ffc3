/**
 * Where formatted access log entries go: a file (appended) or stdout/stderr. A request only
 * queues its line in memory; lines are written in batches by the libuv thread pool when the
 * batch reaches `flushBytes` or `flushIntervalMs` after its first line, so the event loop never
 * waits on a disk or a slow pipe reader. Like Envoy's AccessLogManager, one file per path per
 * thread: worker threads each hold their own descriptor in O_APPEND mode, and each write is a
 * whole number of lines, so lines from different threads do not interleave.
 */
import fs from 'node:fs';
import { log } from '../../log.js';
import { LineEncoder } from './line-encoder.js';

export interface AccessLogSink {
  /** Queues one formatted entry (with its newline); returns at once. */
  write(entry: string): void;
  /**
   * Queues the entry that `encode` appends for `x` (a text format's encoder, see
   * line-encoder.ts): the same bytes as write(format(x)), without building the string.
   */
  writeWith<T>(encode: (x: T, out: LineEncoder) => void, x: T): void;
  /** Resolves when everything queued before the call is written (or counted as dropped). */
  flush(): Promise<void>;
  /** Flushes, then releases the file. Later writes are dropped. */
  close(): Promise<void>;
  /** Entries lost: queue over `maxBufferedBytes`, or the file could not be opened or written. */
  readonly dropped: number;
}

export interface SinkOptions {
  /** Longest a queued line waits. Default 1000 ms (Envoy's file_flush_interval). */
  readonly flushIntervalMs?: number;
  /** Queue size that triggers a write at once. Default 64 KiB (Envoy's default flush size). */
  readonly flushBytes?: number;
  /** Queue size past which new lines are dropped rather than held. Default 16 MiB. */
  readonly maxBufferedBytes?: number;
}

const DEFAULTS = { flushIntervalMs: 1000, flushBytes: 64 * 1024, maxBufferedBytes: 16 << 20 };

/** A chunk with less room than this is closed and a new one started before a line is encoded. */
const MIN_ROOM = 2048;
/** Written chunks kept for reuse, so a busy log does not allocate a buffer per batch. */
const SPARE_CHUNKS = 4;

/** Encoded lines waiting to be written: one buffer filled from the front. */
interface Chunk { readonly buf: Buffer; used: number; lines: number }

const encodeString = (s: string, out: LineEncoder): void => out.text(s);

/**
 * Batches lines and writes them to a descriptor (opened lazily for a path). Each line is encoded
 * into the current chunk when it is queued: a formatted line is a rope of many small strings,
 * which, kept until the batch is written, would survive young-generation collections and be
 * promoted; its bytes in one buffer cost the collector nothing. Text formats skip the string
 * altogether (writeWith).
 */
class BatchingSink implements AccessLogSink {
  readonly #flushBytes: number;
  readonly #maxBuffered: number;
  readonly #flushIntervalMs: number;
  readonly #target: string | number;
  readonly #chunkSize: number;
  readonly #encoder = new LineEncoder();
  #fd: number | undefined;
  #queue: Chunk[] = [];
  #spare: Buffer[] = [];
  #queued = 0;
  #dropped = 0;
  #chain: Promise<void> = Promise.resolve();
  #pending: 'none' | 'full' | 'all' = 'none';
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #reportedError = false;

  /** `target`: a path to append to, or an open descriptor (1, 2) that is never closed. */
  constructor(target: string | number, opts: SinkOptions) {
    this.#target = target;
    this.#fd = typeof target === 'number' ? target : undefined;
    const o = { ...DEFAULTS, ...opts };
    this.#flushBytes = o.flushBytes;
    this.#maxBuffered = o.maxBufferedBytes;
    this.#flushIntervalMs = o.flushIntervalMs;
    this.#chunkSize = this.#flushBytes + 2 * MIN_ROOM;
  }

  get dropped(): number {
    return this.#dropped;
  }

  write(entry: string): void {
    this.writeWith(encodeString, entry);
  }

  writeWith<T>(encode: (x: T, out: LineEncoder) => void, x: T): void {
    if (this.#closed || this.#queued >= this.#maxBuffered) {
      this.#dropped++;
      return;
    }
    let c = this.#queue[this.#queue.length - 1];
    if (!c || c.buf.length - c.used < MIN_ROOM) {
      c = { buf: this.#spare.pop() ?? Buffer.allocUnsafe(this.#chunkSize), used: 0, lines: 0 };
      this.#queue.push(c);
    }
    const e = this.#encoder;
    e.begin(c.buf, c.used);
    try {
      encode(x, e);
    } catch (err) {
      // Formatters do not throw; if one does, the line is lost, not the request or the process.
      this.#dropped++;
      this.#reportOnce(`formatting failed: ${(err as Error).message}`);
      return;
    }
    const n = e.pos - e.start;
    if (this.#queued + n > this.#maxBuffered) {
      this.#dropped++;
      return;
    }
    if (e.buf === c.buf) {
      c.used = e.pos;
      c.lines++;
    } else {
      // The line outgrew the chunk and was moved to a buffer of its own: that is the next chunk.
      this.#queue.push({ buf: e.buf, used: e.pos, lines: 1 });
    }
    this.#queued += n;
    if (this.#queued >= this.#flushBytes) void this.#schedule(false);
    else this.#armTimer();
  }

  #armTimer(): void {
    if (this.#timer || this.#queued === 0) return;
    this.#timer = setTimeout(() => { this.#timer = undefined; void this.flush(); }, this.#flushIntervalMs);
    this.#timer.unref();
  }

  flush(): Promise<void> {
    return this.#schedule(true);
  }

  /**
   * Chains a drain after the one in flight. `all`: everything queued (flush, the interval,
   * close); otherwise only while a full batch is queued, the rest waiting for the interval as
   * in Envoy. A drain that has not started yet takes everything queued so far, so one pending
   * drain is enough: without this, every line queued past flushBytes while a write was in
   * flight chained a drain of its own and batches fell apart into writes of a few lines.
   */
  #schedule(all: boolean): Promise<void> {
    // A full batch leaves the interval's timer armed, as Envoy's flush timer is periodic: it
    // then fires at most once an interval under load, instead of a new timer per batch (each
    // cost microseconds in code that runs too rarely to be optimized).
    if (all && this.#timer) { clearTimeout(this.#timer); this.#timer = undefined; }
    if (this.#pending !== 'none') {
      if (all) this.#pending = 'all';
      return this.#chain;
    }
    this.#pending = all ? 'all' : 'full';
    this.#chain = this.#chain.then(() => {
      const everything = this.#pending === 'all';
      this.#pending = 'none';
      return this.#drain(everything);
    });
    return this.#chain;
  }

  async close(): Promise<void> {
    // Closed first: what is queued now is written, a line after this call is dropped.
    this.#closed = true;
    await this.flush();
    const fd = this.#fd;
    if (fd !== undefined && typeof this.#target === 'string') {
      this.#fd = undefined;
      await new Promise<void>((r) => fs.close(fd, () => r()));
    }
  }

  /**
   * Writes what is queued now (`all`), then full batches while there are; never rejects. Lines
   * that arrive while it writes are the next batch's: an `all` drain that went on until the
   * queue was empty never ended under load, and wrote the few lines each write let in, one
   * thread-pool hand-off each (16-line writes back to back when writes were slow).
   */
  async #drain(all: boolean): Promise<void> {
    let everything = all;
    while (this.#queue.length > 0 && (everything || this.#queued >= this.#flushBytes)) {
      let chunks = this.#queue;
      // A full batch leaves the chunk being filled, while it has room, to the next batch: a drain
      // chained after a write still in flight can find a full chunk and the first lines of the
      // next, and those few would otherwise be a write (a hand-off to the thread pool) of their own.
      const last = chunks[chunks.length - 1]!;
      if (!everything && chunks.length > 1 && last.buf.length - last.used >= MIN_ROOM) {
        this.#queue = [last];
        chunks = chunks.slice(0, -1);
      } else {
        this.#queue = [];
      }
      for (const c of chunks) this.#queued -= c.used;
      everything = false;
      let written = 0;
      try {
        const fd = this.#fd ?? (this.#fd = await openAppend(this.#target as string));
        for (const c of chunks) {
          await writeAll(fd, c.buf.subarray(0, c.used));
          written++;
          if (c.buf.length === this.#chunkSize && this.#spare.length < SPARE_CHUNKS) this.#spare.push(c.buf);
        }
      } catch (e) {
        for (let i = written; i < chunks.length; i++) this.#dropped += chunks[i]!.lines;
        this.#reportOnce(`${(e as Error).message}; dropping entries`);
      }
    }
    this.#armTimer();
  }

  #reportOnce(message: string): void {
    if (this.#reportedError) return;
    this.#reportedError = true;
    log.error(`access log ${typeof this.#target === 'string' ? this.#target : `fd ${this.#target}`}: ${message}`);
  }
}

function openAppend(path: string): Promise<number> {
  return new Promise((resolve, reject) => fs.open(path, 'a', 0o644, (err, fd) => (err ? reject(err) : resolve(fd))));
}

/** fs.write until every byte is out; waits and retries when a non-blocking pipe is full. */
async function writeAll(fd: number, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    try {
      off += await new Promise<number>((resolve, reject) => fs.write(fd, buf, off, buf.length - off, null, (err, n) => (err ? reject(err) : resolve(n))));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/**
 * The sinks of one thread, shared by every logger that names the same file. `flush()` at
 * shutdown so nothing queued is lost.
 */
export class AccessLogSinks {
  readonly #opts: SinkOptions;
  readonly #files = new Map<string, AccessLogSink>();
  #stdout: AccessLogSink | undefined;
  #stderr: AccessLogSink | undefined;

  constructor(opts: SinkOptions = {}) {
    this.#opts = opts;
  }

  /** The sink appending to `path` (opened on the first write, created 0644 if missing). */
  file(path: string): AccessLogSink {
    let s = this.#files.get(path);
    if (!s) this.#files.set(path, (s = new BatchingSink(path, this.#opts)));
    return s;
  }

  stdout(): AccessLogSink {
    return (this.#stdout ??= new BatchingSink(1, this.#opts));
  }

  stderr(): AccessLogSink {
    return (this.#stderr ??= new BatchingSink(2, this.#opts));
  }

  async flush(): Promise<void> {
    await Promise.all([...this.#all()].map((s) => s.flush()));
  }

  /** Flushes and closes every file; the registry is empty afterwards. */
  async close(): Promise<void> {
    const all = [...this.#all()];
    this.#files.clear();
    this.#stdout = this.#stderr = undefined;
    await Promise.all(all.map((s) => s.close()));
  }

  *#all(): Iterable<AccessLogSink> {
    yield* this.#files.values();
    if (this.#stdout) yield this.#stdout;
    if (this.#stderr) yield this.#stderr;
  }
}

/** This thread's sinks, used by compiled access loggers unless given others. */
export const accessLogSinks = new AccessLogSinks();

/** Writes out every queued entry of this thread (call before exit). */
export function flushAccessLogs(): Promise<void> {
  return accessLogSinks.flush();
}
