import { create, createRegistry, toJson, type JsonValue, type Registry } from '@bufbuild/protobuf';
import { anyPack, anyUnpack, timestampFromMs } from '@bufbuild/protobuf/wkt';
import { ConfigDumpSchema, BootstrapConfigDumpSchema } from '../envoy/generated/envoy/admin/v3/config_dump_pb.js';
import {
  ListenersConfigDumpSchema, ListenersConfigDump_StaticListenerSchema, ListenersConfigDump_DynamicListenerSchema, ListenersConfigDump_DynamicListenerStateSchema,
  ClustersConfigDumpSchema, ClustersConfigDump_StaticClusterSchema, ClustersConfigDump_DynamicClusterSchema,
  RoutesConfigDumpSchema, RoutesConfigDump_StaticRouteConfigSchema, RoutesConfigDump_DynamicRouteConfigSchema,
  EndpointsConfigDumpSchema, EndpointsConfigDump_DynamicEndpointConfigSchema,
} from '../envoy/generated/envoy/admin/v3/config_dump_shared_pb.js';
import { ListenerSchema } from '../envoy/generated/envoy/config/listener/v3/listener_pb.js';
import { ClusterSchema } from '../envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { RouteConfigurationSchema } from '../envoy/generated/envoy/config/route/v3/route_pb.js';
import { ClusterLoadAssignmentSchema } from '../envoy/generated/envoy/config/endpoint/v3/endpoint_pb.js';
import { HttpConnectionManagerSchema } from '../envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { ProxySpec } from './config.js';
import type { XdsState } from './xds/state.js';
import { SecretsConfigDumpSchema } from '../envoy/generated/envoy/admin/v3/config_dump_pb.js';
import { SecretSchema } from '../envoy/generated/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { redactPrivateKeys, secretsConfigDump } from './tls/secrets-dump.js';
import type { SecretRef, SecretStore } from './tls/secret-store.js';

/** What /config_dump shows of secrets: the instance's store and the names its TLS contexts use. */
export interface SecretsDumpSource {
  readonly store: SecretStore;
  readonly referenced: readonly SecretRef[];
}

/** What /config_dump shows of xDS: the state and a registry of the types its resources hold. */
export interface DynamicDumpSource {
  readonly state: XdsState;
  readonly registry: Registry;
}

/** Envoy's /config_dump: what is applied, as proto3 JSON of envoy.admin.v3.ConfigDump. */
export function configDump(spec: ProxySpec, loadedAtMs: number, dynamic?: DynamicDumpSource, secrets?: SecretsDumpSource): JsonValue {
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
  const st = dynamic?.state;
  const active = st?.active();
  const at = (ms: number) => timestampFromMs(ms);
  const dynamicListeners = st ? [...st.accepted('listener').values()].map((l) => {
    const serving = active!.listeners.get(l.name);
    const state = (h: typeof l) => create(ListenersConfigDump_DynamicListenerStateSchema, { versionInfo: h.version, listener: anyPack(ListenerSchema, h.message), lastUpdated: at(h.lastUpdatedMs) });
    return create(ListenersConfigDump_DynamicListenerSchema, {
      name: l.name,
      activeState: serving ? state(serving) : undefined,
      warmingState: serving !== l ? state(l) : undefined,
    });
  }) : [];
  const dynamicClusters = st ? [...active!.clusters.values()].map((c) => create(ClustersConfigDump_DynamicClusterSchema, { versionInfo: c.version, cluster: anyPack(ClusterSchema, c.message), lastUpdated: at(c.lastUpdatedMs) })) : [];
  const warmingClusters = st ? [...st.accepted('cluster').values()].filter((c) => active!.clusters.get(c.name) !== c)
    .map((c) => create(ClustersConfigDump_DynamicClusterSchema, { versionInfo: c.version, cluster: anyPack(ClusterSchema, c.message), lastUpdated: at(c.lastUpdatedMs) })) : [];
  const dynamicRoutes = st ? [...st.accepted('route').values()].map((r) => create(RoutesConfigDump_DynamicRouteConfigSchema, { versionInfo: r.version, routeConfig: anyPack(RouteConfigurationSchema, r.message), lastUpdated: at(r.lastUpdatedMs) })) : [];
  const dynamicEndpoints = st ? [...st.accepted('endpoint').values()].map((e) => create(EndpointsConfigDump_DynamicEndpointConfigSchema, { versionInfo: e.version, endpointConfig: anyPack(ClusterLoadAssignmentSchema, e.message), lastUpdated: at(e.lastUpdatedMs) })) : [];
  const dump = create(ConfigDumpSchema, {
    configs: [
      anyPack(BootstrapConfigDumpSchema, create(BootstrapConfigDumpSchema, { bootstrap: b, lastUpdated: ts })),
      anyPack(ClustersConfigDumpSchema, create(ClustersConfigDumpSchema, {
        staticClusters: (b.staticResources?.clusters ?? []).map((c) => create(ClustersConfigDump_StaticClusterSchema, { cluster: anyPack(ClusterSchema, c), lastUpdated: ts })),
        dynamicActiveClusters: dynamicClusters,
        dynamicWarmingClusters: warmingClusters,
      })),
      ...(st ? [anyPack(EndpointsConfigDumpSchema, create(EndpointsConfigDumpSchema, { dynamicEndpointConfigs: dynamicEndpoints }))] : []),
      anyPack(ListenersConfigDumpSchema, create(ListenersConfigDumpSchema, {
        staticListeners: listeners.map((l) => create(ListenersConfigDump_StaticListenerSchema, { listener: anyPack(ListenerSchema, l), lastUpdated: ts })),
        dynamicListeners,
      })),
      anyPack(RoutesConfigDumpSchema, create(RoutesConfigDumpSchema, { staticRouteConfigs: routes, dynamicRouteConfigs: dynamicRoutes })),
      ...(secrets ? [anyPack(SecretsConfigDumpSchema, secretsConfigDump(secrets.store, new Set([...spec.secrets.tlsCertificates, ...spec.secrets.validationContexts].map((s) => s.name)), secrets.referenced))] : []),
    ],
  });
  const registry = createRegistry(dynamic?.registry ?? spec.registry, BootstrapConfigDumpSchema, ClustersConfigDumpSchema, ListenersConfigDumpSchema, RoutesConfigDumpSchema, EndpointsConfigDumpSchema, ClusterSchema, ListenerSchema, RouteConfigurationSchema, ClusterLoadAssignmentSchema, SecretsConfigDumpSchema, SecretSchema);
  // Private keys never leave the proxy: Envoy redacts its sensitive fields in every dump.
  return redactPrivateKeys(toJson(ConfigDumpSchema, dump, { registry }));
}
