/**
 * The tracing state of one proxy thread: one exporter per distinct provider (so connection
 * managers naming the same collector share its batches), and the node's span tags. Each worker
 * thread has its own and sends its own batches.
 */
import type { Bootstrap } from '../../envoy/generated/envoy/config/bootstrap/v3/bootstrap_pb.js';
import type { ClusterManager } from '../upstream/cluster-manager.js';
import type { StatScope } from '../stats-scope.js';
import { statSet } from '../stats-scope.js';
import type { TracingConfig, TracingProvider } from './config.js';
import { BatchingExporter, type ExporterOptions } from './exporter.js';
import { postReport } from './collector-client.js';
import { otlpFormat } from './otlp-encode.js';
import { zipkinFormat } from './zipkin-encode.js';
import { Tracer, type NodeTags } from './tracer.js';

const EXPORTER_STATS = ['spans_sent', 'spans_dropped', 'reports_sent', 'reports_failed'] as const;

export class TracingRuntime {
  readonly #exporters = new Map<string, BatchingExporter>();
  readonly #node: NodeTags;
  readonly #serviceCluster: string;

  constructor(
    readonly clusters: ClusterManager,
    /** `tracing.<provider>.` stats (opentelemetry, zipkin). */
    readonly scopeFor: (provider: string) => StatScope,
    bootstrap: Bootstrap,
    readonly options: ExporterOptions = {},
  ) {
    this.#node = nodeTags(bootstrap);
    this.#serviceCluster = bootstrap.node?.cluster ?? '';
  }

  tracerFor(cfg: TracingConfig): Tracer {
    return new Tracer(cfg, this.#exporter(cfg.provider), this.#node);
  }

  /**
   * Sends what every exporter holds; resolves when the reports are done, or after `maxWaitMs`
   * (a dead collector must not hold a shutdown up for its whole timeout).
   */
  async flush(maxWaitMs = 1000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...this.#exporters.values()].map((e) => e.flush())),
      new Promise<void>((r) => { timer = setTimeout(r, maxWaitMs); }),
    ]);
    clearTimeout(timer);
  }

  #exporter(p: TracingProvider): BatchingExporter {
    const key = JSON.stringify(p);
    let e = this.#exporters.get(key);
    if (e) return e;
    const stats = statSet(this.scopeFor(p.kind), EXPORTER_STATS);
    const serviceName = p.serviceName || this.#serviceCluster || (p.kind === 'zipkin' ? 'envoy' : 'unknown_service:envoy');
    if (p.kind === 'opentelemetry') {
      const req = { cluster: p.cluster, path: p.path, authority: p.authority, contentType: 'application/x-protobuf', headers: p.headers, timeoutMs: p.timeoutMs };
      e = new BatchingExporter(otlpFormat({ attributes: [['service.name', serviceName]] }), async (body) => ok(await postReport(this.clusters, req, body)), stats, this.options);
    } else {
      const req = { cluster: p.cluster, path: p.path, authority: p.authority, contentType: 'application/json', headers: [], timeoutMs: p.timeoutMs };
      e = new BatchingExporter(zipkinFormat(serviceName), async (body) => ok(await postReport(this.clusters, req, body)), stats, this.options);
    }
    this.#exporters.set(key, e);
    return e;
  }
}

function ok(status: number): boolean {
  return status >= 200 && status < 300;
}

/** node_id, zone, and Istio's canonical service tags from the node's LABELS / NAMESPACE / MESH_ID metadata. */
export function nodeTags(b: Bootstrap): NodeTags {
  const md = b.node?.metadata ?? {};
  const labels = md['LABELS'];
  const label = (k: string): string | undefined => {
    if (!labels || typeof labels !== 'object' || Array.isArray(labels)) return undefined;
    const v = (labels as Record<string, unknown>)[k];
    return typeof v === 'string' ? v : undefined;
  };
  const str = (k: string): string | undefined => { const v = md[k]; return typeof v === 'string' && v ? v : undefined; };
  const istio: [string, string][] = [];
  const svc = label('service.istio.io/canonical-name') ?? label('app.kubernetes.io/name') ?? label('app') ?? str('NAME');
  const rev = label('service.istio.io/canonical-revision') ?? label('app.kubernetes.io/version') ?? label('version');
  if (svc) istio.push(['istio.canonical_service', svc]);
  if (rev) istio.push(['istio.canonical_revision', rev]);
  const ns = str('NAMESPACE');
  if (ns) istio.push(['istio.namespace', ns]);
  const mesh = str('MESH_ID');
  if (mesh) istio.push(['istio.mesh_id', mesh]);
  return { nodeId: b.node?.id ?? '', zone: b.node?.locality?.zone ?? '', istio };
}
