import type { HeaderMap } from '../../../../src/proxy/http/headers.js';
import {
  RequestParser, ResponseParser, type H1Error, type ParserCallbacks, type RequestHead, type ResponseHead,
} from '../../../../src/proxy/http/h1/parser.js';

/** One parser event as plain data, so runs can be compared with deepStrictEqual. */
export type ParseEvent =
  | { type: 'head'; head: Record<string, unknown> }
  | { type: 'body'; data: string }
  | { type: 'complete'; trailers: string[] | undefined }
  | { type: 'error'; code: string; status: number };

export const LIMITS = { maxHeaderBytes: 8192, maxHeaderCount: 100 };

function headData(h: RequestHead | ResponseHead): Record<string, unknown> {
  return { ...h, headers: h.headers.list.slice() };
}

/** Callbacks that record events; body chunks are copied (the parser lends subarrays). */
function recorder<H extends RequestHead | ResponseHead>(events: ParseEvent[], onHead?: (h: H) => void): ParserCallbacks<H> {
  return {
    onHead(h: H) { events.push({ type: 'head', head: headData(h) }); onHead?.(h); },
    onBody(chunk: Buffer) { events.push({ type: 'body', data: chunk.toString('latin1') }); },
    onComplete(trailers: HeaderMap | undefined) { events.push({ type: 'complete', trailers: trailers?.list.slice() }); },
    onError(err: H1Error) { events.push({ type: 'error', code: err.code, status: err.status }); },
  };
}

export function requestParser(limits = LIMITS, onHead?: (h: RequestHead) => void): { parser: RequestParser; events: ParseEvent[] } {
  const events: ParseEvent[] = [];
  return { parser: new RequestParser(recorder(events, onHead), limits), events };
}

export function responseParser(limits = LIMITS): { parser: ResponseParser; events: ParseEvent[] } {
  const events: ParseEvent[] = [];
  return { parser: new ResponseParser(recorder(events), limits), events };
}

/** Joins adjacent body events: how the body is cut depends on the reads, its bytes must not. */
export function mergeBodies(events: ParseEvent[]): ParseEvent[] {
  const out: ParseEvent[] = [];
  for (const e of events) {
    const last = out[out.length - 1];
    if (e.type === 'body' && last?.type === 'body') out[out.length - 1] = { type: 'body', data: last.data + e.data };
    else if (e.type !== 'body' || e.data.length > 0) out.push(e);
  }
  return out;
}

/** Feeds `input` in pieces cut at `cuts` (sorted offsets); returns the total consumed. */
export function feed(parser: { execute(b: Buffer): number }, input: Buffer, cuts: number[]): number {
  let consumed = 0;
  let prev = 0;
  for (const cut of [...cuts, input.length]) {
    if (cut < prev) continue;
    // Copy each piece so the parser cannot rely on bytes outside what it was given.
    consumed += parser.execute(Buffer.from(input.subarray(prev, cut)));
    prev = cut;
  }
  return consumed;
}

/** Deterministic PRNG (mulberry32) for reproducible random splits. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function errorOf(events: ParseEvent[]): { code: string; status: number } | undefined {
  const e = events.find((x) => x.type === 'error');
  return e?.type === 'error' ? { code: e.code, status: e.status } : undefined;
}

/** The i-th head reported, as plain data. */
export function headAt(events: ParseEvent[], i = 0): Record<string, unknown> {
  const heads = events.filter((e) => e.type === 'head');
  const h = heads[i];
  if (h?.type !== 'head') throw new Error(`no head #${i} in ${JSON.stringify(events)}`);
  return h.head;
}
