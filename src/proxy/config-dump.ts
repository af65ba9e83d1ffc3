import { create, createRegistry, toJson, type JsonValue } from '@bufbuild/protobuf';
import { anyPack, timestampFromMs } from '@bufbuild/protobuf/wkt';
import { ConfigDumpSchema, BootstrapConfigDumpSchema } from '../envoy/generated/envoy/admin/v3/config_dump_pb.js';
import { ListenersConfigDumpSchema, ListenersConfigDump_StaticListenerSchema, ClustersConfigDumpSchema, ClustersConfigDump_StaticClusterSchema, RoutesConfigDumpSchema, RoutesConfigDump_StaticRouteConfigSchema } from '../envoy/generated/envoy/admin/v3/config_dump_shared_pb.js';
import { ListenerSchema } from '../envoy/generated/envoy/config/listener/v3/listener_pb.js';
import { ClusterSchema } from '../envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { RouteConfigurationSchema } from '../envoy/generated/envoy/config/route/v3/route_pb.js';
import { HttpConnectionManagerSchema } from '../envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import type { ProxySpec } from './config.js';

/** Envoy's /config_dump: what is applied, as proto3 JSON of envoy.admin.v3.ConfigDump. */
export function configDump(spec: ProxySpec, loadedAtMs: number): JsonValue {
  const b = spec.bootstrap;
  const ts = timestampFromMs(loadedAtMs);
  const listeners = b.staticResources?.listeners ?? [];
  const routes = [];
  for (const l of listeners) {
    for (const fc of [...l.filterChains, ...(l.defaultFilterChain ? [l.defaultFilterChain] : [])]) {
      for (const f of fc.filters) {
        if (f.configType.case !== 'typedConfig') continue;
        const hcm = anyUnpack(f.configType.value, HttpConnectionManagerSchema);
        if (hcm?.routeSpecifier.case === 'routeConfig') {
          routes.push(create(RoutesConfigDump_StaticRouteConfigSchema, { routeConfig: anyPack(RouteConfigurationSchema, hcm.routeSpecifier.value), lastUpdated: ts }));
        }
      }
    }
  }
  const dump = create(ConfigDumpSchema, {
    configs: [
      anyPack(BootstrapConfigDumpSchema, create(BootstrapConfigDumpSchema, { bootstrap: b, lastUpdated: ts })),
      anyPack(ClustersConfigDumpSchema, create(ClustersConfigDumpSchema, {
        staticClusters: (b.staticResources?.clusters ?? []).map((c) => create(ClustersConfigDump_StaticClusterSchema, { cluster: anyPack(ClusterSchema, c), lastUpdated: ts })),
      })),
      anyPack(ListenersConfigDumpSchema, create(ListenersConfigDumpSchema, {
        staticListeners: listeners.map((l) => create(ListenersConfigDump_StaticListenerSchema, { listener: anyPack(ListenerSchema, l), lastUpdated: ts })),
      })),
      anyPack(RoutesConfigDumpSchema, create(RoutesConfigDumpSchema, { staticRouteConfigs: routes })),
    ],
  });
  const registry = createRegistry(spec.registry, BootstrapConfigDumpSchema, ClustersConfigDumpSchema, ListenersConfigDumpSchema, RoutesConfigDumpSchema, ClusterSchema, ListenerSchema, RouteConfigurationSchema);
  return toJson(ConfigDumpSchema, dump, { registry });
}
