import type http2 from 'node:http2';
import { HeaderMap } from '../headers.js';
import type { RequestHeaders } from '../stream.js';

/** Node's header object → our list, without pseudo-headers (they are fields of their own). */
export function fromNodeHeaders(h: http2.IncomingHttpHeaders): HeaderMap {
  const list: string[] = [];
  for (const name in h) {
    if (name.charCodeAt(0) === 58 /* : */) continue;
    const v = h[name];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) list.push(name, x);
    else list.push(name, String(v));
  }
  return new HeaderMap(list);
}

export function toNodeHeaders(headers: HeaderMap): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {};
  appendTo(out, headers);
  return out;
}

export function toNodeRequestHeaders(req: RequestHeaders): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = { ':method': req.method, ':path': req.path, ':scheme': req.scheme, ':authority': req.authority };
  appendTo(out, req.headers);
  return out;
}

export function toNodeResponseHeaders(status: number, headers: HeaderMap): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = { ':status': status };
  appendTo(out, headers);
  return out;
}

// Connection-specific headers are illegal in HTTP/2 (RFC 9113 §8.2.2).
const H2_FORBIDDEN = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host']);

function appendTo(out: http2.OutgoingHttpHeaders, headers: HeaderMap): void {
  const l = headers.list;
  for (let i = 0; i < l.length; i += 2) {
    const name = l[i]!;
    if (H2_FORBIDDEN.has(name)) continue;
    if (name === 'te' && l[i + 1] !== 'trailers') continue;
    const prev = out[name];
    if (prev === undefined) out[name] = l[i + 1]!;
    else if (Array.isArray(prev)) prev.push(l[i + 1]!);
    else out[name] = [String(prev), l[i + 1]!];
  }
}
