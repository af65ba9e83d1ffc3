import type { ProxyIdentity } from '../envoy/node-metadata.js';
import { hostsFile } from '../capture/hosts-file.js';
import type { ConfigStore } from './config/store.js';
import type { ApiServer } from './api/server.js';
import { ApiError } from './api/server.js';
import type { Logger } from './log.js';
import { AutoRegistry } from './registry/auto-register.js';
import { loadRegistryFile, saveRegistryFile } from './registry/registry-file.js';
import { buildMesh } from './registry/mesh.js';
import type { MeshSnapshot } from './registry/model.js';
import { generate, scopeOfChanges, shapeKey, TYPE_URL, type ProxyResources, type ResourceScope } from './translate/index.js';
import { AdsServer, type AdsServerOptions } from './xds/server.js';
import type { ResourceSource } from './xds/source.js';
import { ControlMetrics, renderControlMetrics } from './metrics.js';

export interface MeshXdsOptions {
  /** How long a disconnected sidecar's endpoints stay registered (default 10 s). */
  readonly graceMs?: number;
  readonly debounce?: AdsServerOptions['debounce'];
  /**
   * Where the registered workloads are kept across restarts (the data dir's registry.json).
   * Restored workloads stay until they reconnect, or for RESTORED_GRACE_MS plus the grace period.
   */
  readonly registryFile?: string;
  readonly authorize?: AdsServerOptions['authorize'];
}

/** A tsmesh sidecar's longest reconnect backoff: every live sidecar is back within it. */
export const RESTORED_GRACE_MS = 30_000;

/**
 * The control plane's serving half: mesh config (the store) plus the registry of connected
 * sidecars become a MeshSnapshot, translated per proxy shape and served over ADS. A config
 * change or a workload joining or leaving is one (debounced) push.
 */
export class MeshXds implements ResourceSource {
  readonly server: AdsServer;
  readonly registry: AutoRegistry;
  /** /metrics beyond the ADS counters (the CA adds its families with metrics.add). */
  readonly metrics = new ControlMetrics();
  #mesh: MeshSnapshot | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;
  #saveTimer: NodeJS.Timeout | undefined;
  readonly #registryFile: string | undefined;
  readonly #unsubscribe: () => void;

  constructor(readonly store: ConfigStore, readonly log: Logger, opts: MeshXdsOptions = {}) {
    this.registry = new AutoRegistry(opts.graceMs ?? 10_000);
    this.#registryFile = opts.registryFile;
    if (opts.registryFile) {
      const { proxies, issues } = loadRegistryFile(opts.registryFile);
      for (const i of issues) log.error(`registry: ${opts.registryFile}: ${i}`);
      this.registry.restore(proxies, Date.now() + this.registry.graceMs + RESTORED_GRACE_MS);
      if (proxies.length > 0) log.info(`registry: ${proxies.length} workload(s) restored; each stays until it reconnects or for ${(this.registry.graceMs + RESTORED_GRACE_MS) / 1000} s`);
      this.#scheduleSweep();
    }
    this.server = new AdsServer(this, { log: (line) => log.warn(line), ...(opts.debounce ? { debounce: opts.debounce } : {}), ...(opts.authorize ? { authorize: opts.authorize } : {}) });
    this.#unsubscribe = store.onChange((changes) => {
      for (const c of changes) this.metrics.configEvent(c.resource.kind, c.type);
      this.#changed(`config: ${changes.length} change(s)`, scopeOfChanges(changes));
    });
    this.server.onConverged((_id, ms) => this.metrics.convergence.observe(ms / 1000));
    this.server.onConnect((identity) => {
      // A captured workload (tsmesh run) takes traffic only once its sidecar is ready, which is
      // when it has applied its listeners: it joins the registry at its first LDS ACK, as a pod
      // joins a Service's endpoints only when it is Ready. A reconnect keeps its place.
      if (identity.interceptionMode === 'REDIRECT' && !this.registry.get(identity.id)) {
        this.#awaitingReady.set(identity.id, identity);
        log.info(`xds: ${identity.name}.${identity.namespace} connected (${identity.id}); registered once its sidecar is ready`);
        return;
      }
      this.#register(identity);
    });
    this.server.onAck((id, typeUrl) => {
      const identity = this.#awaitingReady.get(id);
      if (!identity || typeUrl !== TYPE_URL.listener) return;
      this.#awaitingReady.delete(id);
      this.#register(identity);
    });
    this.server.onDisconnect((identity) => {
      if (this.#awaitingReady.delete(identity.id)) return;
      this.registry.disconnect(identity.id, Date.now());
      log.info(`xds: ${identity.name}.${identity.namespace} disconnected; its endpoints stay for ${this.registry.graceMs} ms`);
      this.#scheduleSweep();
    });
  }

  readonly #awaitingReady = new Map<string, ProxyIdentity>();

  #register(identity: ProxyIdentity): void {
    const before = this.registry.get(identity.id);
    this.registry.connect(identity);
    this.log.info(`xds: ${identity.name}.${identity.namespace} registered (${identity.id})`);
    // A reconnect with the same identity changes no endpoint; new labels or ports do.
    if (!before || JSON.stringify(before) !== JSON.stringify(identity)) this.#changed(`registry: ${identity.name}.${identity.namespace} ${before ? 'changed' : 'joined'}`);
    this.#scheduleSave();
  }

  generate(proxy: ProxyIdentity, scope?: ResourceScope): ProxyResources {
    return generate(this.mesh(), proxy, scope);
  }

  shapeKey(proxy: ProxyIdentity): string {
    return shapeKey(proxy, this.mesh());
  }

  /** The current mesh (config + registry), rebuilt after a change. */
  mesh(): MeshSnapshot {
    return (this.#mesh ??= buildMesh(this.store.snapshot(), this.registry.list()));
  }

  listen(host: string, port: number, opts?: Parameters<AdsServer['listen']>[2]): Promise<number> {
    return this.server.listen(host, port, opts);
  }

  /** More Prometheus text for /metrics (e.g. the CA's). */
  addMetrics(render: () => string): void {
    this.metrics.add(render);
  }

  async close(): Promise<void> {
    clearTimeout(this.#sweepTimer);
    if (this.#saveTimer) { clearTimeout(this.#saveTimer); this.#save(); }
    this.#unsubscribe();
    await this.server.close();
  }

  #changed(reason: string, scope: ResourceScope = 'all'): void {
    this.#mesh = undefined;
    this.server.push(reason, scope);
  }

  /** Coalesces a burst of joins (every sidecar reconnecting at once) into one write. */
  #scheduleSave(): void {
    if (!this.#registryFile || this.#saveTimer) return;
    this.#saveTimer = setTimeout(() => this.#save(), 200);
    this.#saveTimer.unref();
  }

  #save(): void {
    this.#saveTimer = undefined;
    try {
      saveRegistryFile(this.#registryFile!, this.registry.list());
    } catch (e) {
      this.log.error(`registry: cannot write ${this.#registryFile}: ${(e as Error).message}`);
    }
  }

  #scheduleSweep(): void {
    clearTimeout(this.#sweepTimer);
    const at = this.registry.nextDeadline();
    if (at === undefined) return;
    this.#sweepTimer = setTimeout(() => {
      const removed = this.registry.sweep(Date.now());
      for (const p of removed) this.log.info(`registry: ${p.name}.${p.namespace} removed after its grace period`);
      if (removed.length > 0) { this.#changed(`registry: ${removed.length} workload(s) left`); this.#scheduleSave(); }
      this.#scheduleSweep();
    }, Math.max(0, at - Date.now()));
    this.#sweepTimer.unref();
  }

  /**
   * /debug/syncz, /debug/config_dump, /debug/registry, /metrics, and /api/v1/hosts (service names
   * to VIPs as an /etc/hosts for a workload of ?namespace=, for traffic capture) on the API.
   */
  registerRoutes(api: ApiServer): void {
    api.route('GET', '/debug/syncz', () => ({ status: 200, json: this.server.status() }));
    api.route('GET', '/debug/config_dump', async (req) => {
      const id = req.query.get('proxy');
      if (!id) throw new ApiError(400, 'query parameter proxy (a node id from /debug/syncz) is required');
      const out: Record<string, unknown> = {};
      for (const [kind, url] of Object.entries({ listeners: TYPE_URL.listener, routes: TYPE_URL.route, clusters: TYPE_URL.cluster, endpoints: TYPE_URL.endpoint })) {
        const sent = await this.server.sentResources(id, url);
        if (sent === undefined) throw new ApiError(404, `no connected proxy ${JSON.stringify(id)}`);
        out[kind] = sent;
      }
      return { status: 200, json: out };
    });
    api.route('GET', '/debug/registry', () => {
      const m = this.mesh();
      return { status: 200, json: { services: m.services, endpoints: Object.fromEntries(m.endpoints), connected: m.connected } };
    });
    api.route('GET', '/api/v1/hosts', (req) => {
      const ns = req.query.get('namespace') ?? 'default';
      return { status: 200, text: hostsFile(this.mesh().services, ns), contentType: 'text/plain' };
    });
    api.route('GET', '/metrics', () => ({ status: 200, text: renderControlMetrics(this.server, this.metrics), contentType: 'text/plain; version=0.0.4' }));
  }
}
