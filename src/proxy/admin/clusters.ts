/**
 * Envoy's /clusters (admin ClustersHandler): the text form, `cluster::key::value` lines and
 * per host `cluster::ip:port::key::value`, and `?format=json`, an envoy.admin.v3.Clusters.
 * Health flags come from shared memory, so the admin thread shows what the workers see.
 */
import { create, toJson, type JsonValue } from '@bufbuild/protobuf';
import { ClustersSchema, ClusterStatusSchema, HostHealthStatusSchema, HostStatusSchema } from '../../envoy/generated/envoy/admin/v3/clusters_pb.js';
import { AddressSchema, SocketAddressSchema } from '../../envoy/generated/envoy/config/core/v3/address_pb.js';
import { HealthStatus } from '../../envoy/generated/envoy/config/core/v3/health_check_pb.js';
import { PercentSchema } from '../../envoy/generated/envoy/type/v3/percent_pb.js';
import type { UpstreamCluster } from '../upstream/cluster.js';
import type { UpstreamHost } from '../upstream/host.js';
import { F_HC_EXCLUDED, F_HC_PASSED, F_HC_TIMEOUT, F_OUTLIER_EJECTED, healthFlagsText } from '../upstream/host-state.js';

/** fmt's `{:g}`: six significant digits, no trailing zeros. */
function g(v: number): string {
  return String(Number(v.toPrecision(6)));
}

function successRates(c: UpstreamCluster, h: UpstreamHost): { ext: number; local: number } {
  return c.outlierSweep?.successRate(h) ?? { ext: -1, local: -1 };
}

export function clustersText(clusters: Iterable<UpstreamCluster>): string {
  const out: string[] = [];
  for (const c of clusters) {
    const n = c.name;
    out.push(`${n}::observability_name::${n}`);
    const sweep = c.outlierSweep;
    if (c.outlier) {
      out.push(`${n}::outlier::success_rate_average::${g(sweep?.average.ext ?? -1)}`);
      out.push(`${n}::outlier::success_rate_ejection_threshold::${g(sweep?.threshold.ext ?? -1)}`);
      out.push(`${n}::outlier::local_origin_success_rate_average::${g(sweep?.average.local ?? -1)}`);
      out.push(`${n}::outlier::local_origin_success_rate_ejection_threshold::${g(sweep?.threshold.local ?? -1)}`);
    }
    for (const p of ['default', 'high'] as const) {
      const r = c.resources[p];
      out.push(`${n}::${p}_priority::max_connections::${r.connections.max}`);
      out.push(`${n}::${p}_priority::max_pending_requests::${r.pendingRequests.max}`);
      out.push(`${n}::${p}_priority::max_requests::${r.requests.max}`);
      out.push(`${n}::${p}_priority::max_retries::${r.retries.max}`);
    }
    out.push(`${n}::added_via_api::false`);
    const activeHc = c.health.activeHc;
    for (const h of c.hosts) {
      const k = `${n}::${h.key}`;
      const sr = successRates(c, h);
      out.push(`${k}::cx_active::${c.activeConnections(h)}`);
      out.push(`${k}::rq_active::${h.activeRequests}`);
      out.push(`${k}::hostname::${h.hostname}`);
      out.push(`${k}::health_flags::${healthFlagsText(h.flags, activeHc)}`);
      out.push(`${k}::weight::${h.weight}`);
      out.push(`${k}::priority::0`);
      out.push(`${k}::success_rate::${sr.ext}`);
      out.push(`${k}::local_origin_success_rate::${sr.local}`);
    }
  }
  return out.join('\n') + '\n';
}

export function clustersJson(clusters: Iterable<UpstreamCluster>): JsonValue {
  const percent = (v: number) => (v >= 0 ? create(PercentSchema, { value: v }) : undefined);
  const msg = create(ClustersSchema, {
    clusterStatuses: [...clusters].map((c) => {
      const sweep = c.outlierSweep;
      return create(ClusterStatusSchema, {
        name: c.name,
        observabilityName: c.name,
        successRateEjectionThreshold: percent(sweep?.threshold.ext ?? -1),
        localOriginSuccessRateEjectionThreshold: percent(sweep?.threshold.local ?? -1),
        hostStatuses: c.hosts.map((h) => {
          const flags = h.flags;
          const failedHc = c.health.activeHc && (flags & F_HC_PASSED) === 0;
          const sr = successRates(c, h);
          return create(HostStatusSchema, {
            address: create(AddressSchema, { address: { case: 'socketAddress', value: create(SocketAddressSchema, { address: h.address, portSpecifier: { case: 'portValue', value: h.port } }) } }),
            hostname: h.hostname,
            weight: h.weight,
            healthStatus: create(HostHealthStatusSchema, {
              failedActiveHealthCheck: failedHc,
              failedOutlierCheck: (flags & F_OUTLIER_EJECTED) !== 0,
              excludedViaImmediateHcFail: c.health.activeHc && (flags & F_HC_EXCLUDED) !== 0,
              activeHcTimeout: failedHc && (flags & F_HC_TIMEOUT) !== 0,
              edsHealthStatus: HealthStatus.HEALTHY,
            }),
            successRate: percent(sr.ext),
            localOriginSuccessRate: percent(sr.local),
          });
        }),
      });
    }),
  });
  // Envoy prints /clusters JSON with the proto field names (cluster_statuses, host_statuses); no Any inside, so no registry.
  return toJson(ClustersSchema, msg, { useProtoFieldName: true });
}
