import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { repoRoot } from './proxy.js';

/** A span as the tests compare them, whichever wire format brought it. */
export interface ReceivedSpan {
  readonly service: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  readonly kind: 'server' | 'client' | 'other';
  readonly startUs: number;
  readonly durationUs: number;
  readonly tags: Readonly<Record<string, string>>;
  readonly error: boolean;
  readonly shared: boolean;
}

export interface TraceCollector {
  readonly port: number;
  readonly spans: ReceivedSpan[];
  /** Requests that could not be decoded (should stay empty). */
  readonly bad: string[];
  readonly contentTypes: string[];
  /** The :scheme of each HTTP/2 request (HTTP/1.1 requests carry none). */
  readonly schemes: string[];
  /** Resolves when `pred` holds for the spans received, polling; rejects after `timeoutMs`. */
  waitFor(pred: (spans: readonly ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

let root: protobuf.Root | undefined;

/** Decodes an OTLP/HTTP protobuf body with the test's own .proto (test/fixtures/otlp-trace.proto). */
export function decodeOtlp(body: Uint8Array): ReceivedSpan[] {
  root ??= protobuf.loadSync(join(repoRoot(), 'test/fixtures/otlp-trace.proto'));
  const Req = root.lookupType('tsmesh.test.otlp.ExportTraceServiceRequest');
  const msg = Req.toObject(Req.decode(body), { longs: String, enums: String, bytes: Array, defaults: false }) as {
    resourceSpans?: { resource?: { attributes?: Kv[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
  };
  const out: ReceivedSpan[] = [];
  for (const rs of msg.resourceSpans ?? []) {
    const service = attrs(rs.resource?.attributes)['service.name'] ?? '';
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        const start = BigInt(s.startTimeUnixNano ?? '0');
        const end = BigInt(s.endTimeUnixNano ?? '0');
        out.push({
          service,
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: s.parentSpanId && s.parentSpanId.length > 0 ? hex(s.parentSpanId) : undefined,
          name: s.name ?? '',
          kind: s.kind === 'SPAN_KIND_SERVER' ? 'server' : s.kind === 'SPAN_KIND_CLIENT' ? 'client' : 'other',
          startUs: Number(start / 1000n),
          durationUs: Number((end - start) / 1000n),
          tags: attrs(s.attributes),
          error: s.status?.code === 'STATUS_CODE_ERROR',
          shared: false,
        });
      }
    }
  }
  return out;
}

interface Kv { key?: string; value?: { stringValue?: string; boolValue?: boolean; intValue?: string } }
interface OtlpSpan {
  traceId?: number[]; spanId?: number[]; parentSpanId?: number[]; name?: string; kind?: string;
  startTimeUnixNano?: string; endTimeUnixNano?: string; attributes?: Kv[]; status?: { code?: string };
}

function attrs(kvs: Kv[] | undefined): Record<string, string> {
  const o: Record<string, string> = {};
  for (const kv of kvs ?? []) if (kv.key) o[kv.key] = kv.value?.stringValue ?? String(kv.value?.boolValue ?? kv.value?.intValue ?? '');
  return o;
}

function hex(b: number[] | undefined): string {
  return Buffer.from(b ?? []).toString('hex');
}

interface ZipkinSpan {
  traceId: string; id: string; parentId?: string; name?: string; kind?: string; timestamp?: number; duration?: number;
  localEndpoint?: { serviceName?: string }; tags?: Record<string, string>; shared?: boolean;
}

/** Decodes a Zipkin v2 JSON list (trace ids of 16 digits are widened to 32, as the proxy keeps them). */
export function decodeZipkin(text: string): ReceivedSpan[] {
  const list = JSON.parse(text) as ZipkinSpan[];
  if (!Array.isArray(list)) throw new Error('not a list');
  return list.map((s) => ({
    service: s.localEndpoint?.serviceName ?? '',
    traceId: s.traceId.padStart(32, '0'),
    spanId: s.id,
    parentSpanId: s.parentId,
    name: s.name ?? '',
    kind: s.kind === 'SERVER' ? 'server' : s.kind === 'CLIENT' ? 'client' : 'other',
    startUs: s.timestamp ?? 0,
    durationUs: s.duration ?? 0,
    tags: s.tags ?? {},
    error: s.tags?.['error'] === 'true',
    shared: s.shared === true,
  }));
}

/**
 * An OTLP/HTTP (POST /v1/traces, protobuf) and Zipkin (POST /api/v2/spans, JSON) receiver on
 * loopback. `status` may answer with another status (a failing collector); `tls` serves HTTPS;
 * `h2` speaks HTTP/2 (over TLS with ALPN, HTTP/1.1 still accepted; else prior knowledge).
 */
export async function startTraceCollector(opts: { status?: number; tls?: { certPem: string; keyPem: string }; h2?: boolean } = {}): Promise<TraceCollector> {
  const spans: ReceivedSpan[] = [];
  const bad: string[] = [];
  const contentTypes: string[] = [];
  const schemes: string[] = [];
  const handler = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse): void => {
    const scheme = req.headers[':scheme'];
    if (typeof scheme === 'string') schemes.push(scheme);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      contentTypes.push(`${req.method} ${req.url} ${req.headers['content-type'] ?? ''}`);
      try {
        if (req.url === '/v1/traces') spans.push(...decodeOtlp(body));
        else if (req.url === '/api/v2/spans') spans.push(...decodeZipkin(body.toString()));
        else bad.push(`unexpected path ${req.url}`);
      } catch (e) {
        bad.push(`${req.url}: ${(e as Error).message}`);
      }
      res.writeHead(opts.status ?? 200, { 'content-type': 'application/json' }).end('{}');
    });
  };
  const sessions = new Set<http2.ServerHttp2Session>();
  const server = opts.h2
    ? (opts.tls ? http2.createSecureServer({ cert: opts.tls.certPem, key: opts.tls.keyPem, allowHTTP1: true }, handler) : http2.createServer(handler))
    : opts.tls ? https.createServer({ cert: opts.tls.certPem, key: opts.tls.keyPem }, handler) : http.createServer(handler);
  if (opts.h2) server.on('session', (s: http2.ServerHttp2Session) => { sessions.add(s); s.on('close', () => sessions.delete(s)); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    spans,
    bad,
    contentTypes,
    schemes,
    async waitFor(pred, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pred(spans)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for spans; have ${JSON.stringify(spans.map((s) => [s.service, s.kind, s.traceId, s.spanId, s.parentSpanId]))}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return spans;
    },
    close: () => new Promise<void>((r) => {
      if ('closeAllConnections' in server) server.closeAllConnections();
      for (const s of sessions) s.destroy();
      server.close(() => r());
    }),
  };
}
