/**
 * Zipkin v2 JSON (POST /api/v2/spans, https://zipkin.io/zipkin-api/#/default/post_spans): a
 * list of spans with microsecond timestamps, hex ids, string tags. Pure.
 */
import { putText } from '../io/put-text.js';
import { isShortTraceId } from './ids.js';
import { encodeReport, type ReportBuffer, type ReportFormat } from './report-buffer.js';
import type { FinishedSpan } from './span.js';

interface ZipkinEndpoint { serviceName?: string; ipv4?: string; ipv6?: string; port?: number }

/** A JSON list, each span added as text when it finishes. */
export function zipkinFormat(serviceName: string): ReportFormat {
  return {
    headroom: 1,
    putSpan(r: ReportBuffer, s: FinishedSpan): void {
      const json = JSON.stringify(zipkinSpan(serviceName, s));
      r.reserve(3 * json.length + 2);
      if (r.spans > 0) r.buf[r.pos++] = 0x2c; // ,
      r.pos = putText(r.buf, r.pos, json);
    },
    frame(r: ReportBuffer): Buffer {
      r.reserve(1);
      r.buf[0] = 0x5b; // [
      r.buf[r.pos] = 0x5d; // ]
      return r.buf.subarray(0, r.pos + 1);
    },
  };
}

/** `spans` as one report's JSON (tests). */
export function encodeZipkinSpans(serviceName: string, spans: readonly FinishedSpan[]): string {
  return encodeReport(zipkinFormat(serviceName), spans).toString();
}

function zipkinSpan(serviceName: string, s: FinishedSpan): object {
  const tags: Record<string, string> = {};
  for (const [k, v] of s.attributes) tags[k] = v;
  const timestamp = Number(s.startUnixNano / 1000n);
  return {
    traceId: isShortTraceId(s.traceId) ? s.traceId.slice(16) : s.traceId,
    id: s.spanId,
    ...(s.parentSpanId ? { parentId: s.parentSpanId } : {}),
    name: s.name,
    kind: s.kind === 'server' ? 'SERVER' : 'CLIENT',
    timestamp,
    duration: Math.max(1, Number(s.endUnixNano / 1000n) - timestamp),
    localEndpoint: endpoint(s.local, serviceName),
    ...(s.remote ? { remoteEndpoint: endpoint(s.remote) } : {}),
    ...(s.shared ? { shared: true } : {}),
    tags,
  };
}

function endpoint(a: { address: string; port: number }, serviceName?: string): ZipkinEndpoint {
  const e: ZipkinEndpoint = {};
  if (serviceName) e.serviceName = serviceName;
  if (a.address.includes(':')) e.ipv6 = a.address; else if (a.address) e.ipv4 = a.address;
  if (a.port) e.port = a.port;
  return e;
}
