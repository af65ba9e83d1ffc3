import assert from 'node:assert/strict';
import { clone } from '@bufbuild/protobuf';
import { anyPack, anyUnpack } from '@bufbuild/protobuf/wkt';
import { ListenerSchema, type Listener } from '../../../src/envoy/generated/envoy/config/listener/v3/listener_pb.js';
import { ClusterSchema, Cluster_DiscoveryType, type Cluster } from '../../../src/envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../../src/envoy/generated/envoy/config/route/v3/route_pb.js';
import { HttpConnectionManagerSchema } from '../../../src/envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { ClusterLoadAssignment } from '../../../src/envoy/generated/envoy/config/endpoint/v3/endpoint_pb.js';

/*
 * Generated resources as OUR proxy will hold them once ADS delivers them: EDS clusters with
 * their assignment inline (STATIC), RDS resolved to the named route configuration. The cors
 * filter is taken out: the lead adds it to the proxy (until then its config would be refused).
 */
const CORS = 'envoy.filters.http.cors';

/** What the proxy's EDS support turns an EDS cluster into: STATIC with the assignment inline. */
export function asDelivered(c: Cluster, clas: readonly ClusterLoadAssignment[]): Cluster {
  if (!(c.clusterDiscoveryType.case === 'type' && c.clusterDiscoveryType.value === Cluster_DiscoveryType.EDS)) return c;
  const out = clone(ClusterSchema, c);
  out.clusterDiscoveryType = { case: 'type', value: Cluster_DiscoveryType.STATIC };
  out.edsClusterConfig = undefined;
  const cla = clas.find((a) => a.clusterName === c.name);
  assert.ok(cla, `${c.name}: EDS cluster without a ClusterLoadAssignment`);
  out.loadAssignment = cla;
  return out;
}

/** RDS resolved against the generated route configurations, the cors filter taken out. */
export function asDeliveredListener(l: Listener, routes: readonly RouteConfiguration[]): Listener {
  const out = clone(ListenerSchema, l);
  for (const chain of out.filterChains) {
    for (const f of chain.filters) {
      if (f.configType.case !== 'typedConfig') continue;
      const hcm = anyUnpack(f.configType.value, HttpConnectionManagerSchema);
      if (!hcm) continue;
      if (hcm.routeSpecifier.case === 'rds') {
        const name = hcm.routeSpecifier.value.routeConfigName;
        const rc = routes.find((r) => r.name === name);
        assert.ok(rc, `${l.name}: rds names route configuration "${name}", which generate did not return`);
        hcm.routeSpecifier = { case: 'routeConfig', value: withoutCors(rc) };
      }
      hcm.httpFilters = hcm.httpFilters.filter((h) => h.name !== CORS);
      f.configType = { case: 'typedConfig', value: anyPack(HttpConnectionManagerSchema, hcm) };
    }
  }
  return out;
}

export function withoutCors(rc: RouteConfiguration): RouteConfiguration {
  const out = clone(RouteConfigurationSchema, rc);
  for (const vh of out.virtualHosts) for (const r of vh.routes) delete r.typedPerFilterConfig[CORS];
  return out;
}

