/**
 * Telemetry's own work per request, without sockets: the tracer's decision, context headers and
 * (for the sampled 1%) span encoded into an OTLP report, and an access-log line in Istio's text
 * format queued to a file sink (/dev/null), each against a loop that only builds the request,
 * in process CPU time. Noise from other processes hardly moves it, unlike the throughput runs.
 */
import { HeaderMap } from '../../src/proxy/http/headers.js';
import type { RequestHeaders } from '../../src/proxy/http/stream.js';
import { newRequestId } from '../../src/proxy/http/conn-manager/request-id.js';
import { Tracer, type TracedStream } from '../../src/proxy/tracing/tracer.js';
import type { TracingConfig } from '../../src/proxy/tracing/config.js';
import { BatchingExporter } from '../../src/proxy/tracing/exporter.js';
import { otlpFormat } from '../../src/proxy/tracing/otlp-encode.js';
import { compileTextFormat } from '../../src/proxy/admin/access-log/format.js';
import { AccessLogSinks } from '../../src/proxy/admin/access-log/sink.js';
import type { AccessLogContext } from '../../src/proxy/admin/access-log/context.js';
import { ISTIO_TEXT_FORMAT } from '../../src/control/translate/access-log-formats.js';
import { median } from './stats.js';

export interface TelemetryLoop { readonly tracingNs: number; readonly accessLogNs: number; readonly spans: number }

export async function telemetryLoopNs(iterations = 200_000, repeats = 5): Promise<TelemetryLoop> {
  const all = { numerator: 1_000_000, denominator: 1_000_000 };
  const cfg: TracingConfig = {
    provider: { kind: 'opentelemetry', cluster: 'c', path: '/v1/traces', authority: 'c', headers: [], timeoutMs: 1000, serviceName: 'bench' },
    operation: 'ingress', customTags: [], spawnUpstreamSpan: false, maxPathTagLength: 256,
    clientSampling: all, randomSampling: { numerator: 10_000, denominator: 1_000_000 }, overallSampling: all,
  };
  let spans = 0;
  // The sampled spans are encoded into reports as the proxy's exporter does; sending one is free here.
  const count = { inc: (n = 1) => { spans += n; } };
  const none = { inc: () => {} };
  const exporter = new BatchingExporter(otlpFormat({ attributes: [['service.name', 'bench']] }), () => Promise.resolve(true), { spans_sent: count, spans_dropped: none, reports_sent: none, reports_failed: none });
  const tracer = new Tracer(cfg, exporter, { nodeId: 'bench', zone: '', istio: [['istio.canonical_service', 'bench']] });
  const format = compileTextFormat(ISTIO_TEXT_FORMAT, 'bench');
  const sinks = new AccessLogSinks();
  const sink = sinks.file('/dev/null');
  const request = (): RequestHeaders => ({ method: 'GET', path: '/', authority: 'svc', scheme: 'http', headers: new HeaderMap(['host', 'svc', 'user-agent', 'wrk', 'x-forwarded-proto', 'http', 'x-request-id', newRequestId()]), protocol: 'HTTP/1.1' });
  const upstream = { address: '127.0.0.1', port: 8080 };
  // Clients on 32 connections, as wrk -c32: the client's address differs from line to line.
  const peers = Array.from({ length: 32 }, (_, i) => ({ address: '127.0.0.1', port: 40000 + i }));
  const local = { address: '127.0.0.1', port: 15006 };
  const responseHeaders = new HeaderMap(['x-envoy-upstream-service-time', '1']);
  // A few requests share each millisecond, as under load (START_TIME is formatted once per ms).
  const start0 = Date.now();
  const modes: Record<'none' | 'tracing' | 'log', (req: RequestHeaders, i: number) => void> = {
    none: () => {},
    tracing: (req, i) => {
      const s: TracedStream = { req, elapsedMs: () => 1.5, status: 200, flags: 0, bytesReceived: 0, bytesSent: 12, upstreamCluster: { name: 'app' }, upstreamHost: upstream, downstreamAddress: peers[0]!, conn: { localAddress: local.address, localPort: local.port } };
      tracer.finish(tracer.start(req), s);
      void i;
    },
    log: (req, i) => {
      const ctx: AccessLogContext = { startTimeMs: start0 + Math.floor(i / 8), request: req, responseHeaders, protocol: 'HTTP/1.1', responseCode: 200, responseCodeDetails: 'via_upstream', responseFlags: 0, bytesReceived: 0, bytesSent: 12, durationMs: 1.5, upstreamHost: upstream, upstreamCluster: 'app', downstreamRemoteAddress: peers[i & 31]!, downstreamLocalAddress: local, routeName: 'default' };
      // What the file logger does: text formats encode straight into the sink's buffer.
      if (format.encode) sink.writeWith(format.encode, ctx);
      else sink.write(format(ctx));
    },
  };
  const ns: Record<keyof typeof modes, number[]> = { none: [], tracing: [], log: [] };
  for (let r = 0; r < repeats; r++) {
    for (const k of Object.keys(modes) as (keyof typeof modes)[]) {
      const work = modes[k];
      // CPU time of the process, not wall time: time the machine gives to other work does not count.
      const t0 = process.cpuUsage();
      // Turns of the event loop between bursts, as a proxy has between reads: queued log lines get written.
      for (let i = 0; i < iterations; i++) {
        work(request(), i);
        if ((i & 31) === 31) await new Promise<void>((r) => setImmediate(r));
      }
      const t = process.cpuUsage(t0);
      ns[k].push(((t.user + t.system) * 1000) / iterations);
      await sink.flush();
      await exporter.flush();
    }
  }
  await sinks.close();
  const base = median(ns.none);
  return { tracingNs: median(ns.tracing) - base, accessLogNs: median(ns.log) - base, spans };
}
