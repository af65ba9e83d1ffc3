import { parseBootstrap } from '../../src/envoy/bootstrap.js';
import { compileBootstrap } from '../../src/proxy/config.js';
import { ProxyInstance } from '../../src/proxy/instance.js';
import { createStatsStore, scopesFor } from '../../src/proxy/stat-scopes.js';
import { SharedSlots } from '../../src/proxy/shared/slots.js';
import type { StatsStore } from '../../src/proxy/admin/stats.js';

/**
 * A proxy instance in the test's own process (real sockets, one serving thread), for tests that
 * drive what the proxy's agent does in-process: setting secrets on `instance.secrets`.
 */
export async function inProcessProxy(yaml: string): Promise<{ instance: ProxyInstance; store: StatsStore; stat(name: string): number; close(): Promise<void> }> {
  const { bootstrap, registry } = await parseBootstrap(yaml);
  const spec = compileBootstrap(bootstrap, registry);
  const store = createStatsStore();
  const scopes = scopesFor(store);
  const instance = new ProxyInstance(spec, scopes, { slots: SharedSlots.create({ entries: 1024, ints: 1 << 16, nameBytes: 1 << 16 }), supervisor: true, sharedScopes: scopes });
  return {
    instance,
    store,
    stat(name) {
      const s = store.snapshot();
      return s.counters.find((c) => c.info.name === name)?.value ?? s.gauges.find((g) => g.info.name === name)?.value ?? 0;
    },
    async close() {
      await instance.close();
      instance.destroyConnections();
    },
  };
}
