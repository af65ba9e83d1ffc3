/*
 * RequestAuthentication → `envoy.filters.http.jwt_authn`, before RBAC in the inbound connection
 * manager. Istio's semantics (https://istio.io/latest/docs/reference/config/security/request_authentication/):
 * a request without a token passes (authorization decides, e.g. with requestPrincipals: ["*"]);
 * a request with a token that no rule verifies gets 401. So one rule for every path requiring any
 * provider or `allow_missing`. Each provider puts the verified payload in dynamic metadata under
 * its issuer (payload_in_metadata), where the RBAC filter's request-principal and claim matchers
 * look (authz-matchers.ts). A `jwksUri` is fetched by the proxy through a cluster: the mesh
 * service's outbound cluster when the URI's host:port is one, else one generated here. Pure.
 */
import { isIP } from 'node:net';
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import {
  JwtAuthenticationSchema, JwtProviderSchema, JwtHeaderSchema, JwtClaimToHeaderSchema, RemoteJwksSchema, RequirementRuleSchema, JwtRequirementSchema,
  JwtRequirementOrListSchema, type JwtProvider,
} from '../../envoy/generated/envoy/extensions/filters/http/jwt_authn/v3/config_pb.js';
import { HttpFilterSchema, type HttpFilter } from '../../envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { DataSourceSchema } from '../../envoy/generated/envoy/config/core/v3/base_pb.js';
import { HttpUriSchema } from '../../envoy/generated/envoy/config/core/v3/http_uri_pb.js';
import { ClusterSchema, Cluster_DiscoveryType, Cluster_DnsLookupFamily, Cluster_LbPolicy, type Cluster } from '../../envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { EmptySchema } from '@bufbuild/protobuf/wkt';
import type { JWTRule, RequestAuthentication } from '../config/kinds.js';
import { seconds } from './duration.js';
import { loadAssignment } from './endpoints.js';
import type { MeshIndex } from './mesh-index.js';
import { outboundCluster } from './names.js';
import { routeMatch } from './route-match.js';
import { systemTrustUpstream } from './tls-context.js';

export const JWT_AUTHN_FILTER = 'envoy.filters.http.jwt_authn';
/** How long the proxy keeps a fetched JWKS (Envoy's RemoteJwks cache_duration). */
const JWKS_CACHE_S = 300;
const JWKS_FETCH_TIMEOUT_S = 5;

export interface JwtConfig {
  /** The filter, or undefined when no RequestAuthentication applies. */
  readonly filter?: HttpFilter;
  /** Clusters the proxy needs to fetch remote JWKS (not mesh services). */
  readonly clusters: readonly Cluster[];
  /** Issuers the filter verifies, in order: what request principals and claims can match. */
  readonly issuers: readonly string[];
}

export function jwtConfig(ras: readonly RequestAuthentication[], index: MeshIndex): JwtConfig {
  const rules: JWTRule[] = [];
  const seen = new Set<string>();
  // One provider per issuer: the oldest applicable rule for an issuer wins (metadata is keyed by issuer).
  for (const ra of ras) for (const r of ra.spec.jwtRules ?? []) if (!seen.has(r.issuer)) { seen.add(r.issuer); rules.push(r); }
  if (rules.length === 0) return { clusters: [], issuers: [] };
  const providers: Record<string, JwtProvider> = {};
  const clusters = new Map<string, Cluster>();
  rules.forEach((r, i) => {
    const p = provider(r);
    if (r.jwks) p.jwksSourceSpecifier = { case: 'localJwks', value: create(DataSourceSchema, { specifier: { case: 'inlineString', value: r.jwks } }) };
    else if (r.jwksUri) {
      const { name, cluster } = jwksCluster(r.jwksUri, index);
      if (cluster && !clusters.has(name)) clusters.set(name, cluster);
      p.jwksSourceSpecifier = {
        case: 'remoteJwks',
        value: create(RemoteJwksSchema, {
          httpUri: create(HttpUriSchema, { uri: r.jwksUri, httpUpstreamType: { case: 'cluster', value: name }, timeout: seconds(JWKS_FETCH_TIMEOUT_S) }),
          cacheDuration: seconds(JWKS_CACHE_S),
        }),
      };
    }
    providers[`origins-${i}`] = p;
  });
  const requirement = create(JwtRequirementSchema, {
    requiresType: {
      case: 'requiresAny',
      value: create(JwtRequirementOrListSchema, {
        requirements: [
          ...Object.keys(providers).map((n) => create(JwtRequirementSchema, { requiresType: { case: 'providerName', value: n } })),
          create(JwtRequirementSchema, { requiresType: { case: 'allowMissing', value: create(EmptySchema) } }),
        ],
      }),
    },
  });
  const config = create(JwtAuthenticationSchema, {
    providers,
    rules: [create(RequirementRuleSchema, { match: routeMatch(undefined), requirementType: { case: 'requires', value: requirement } })],
  });
  return {
    filter: create(HttpFilterSchema, { name: JWT_AUTHN_FILTER, configType: { case: 'typedConfig', value: anyPack(JwtAuthenticationSchema, config) } }),
    clusters: [...clusters.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    issuers: rules.map((r) => r.issuer),
  };
}

function provider(r: JWTRule): JwtProvider {
  return create(JwtProviderSchema, {
    issuer: r.issuer,
    audiences: [...(r.audiences ?? [])],
    // Unset: Envoy's defaults (Authorization: Bearer, access_token), the same as Istio's.
    fromHeaders: (r.fromHeaders ?? []).map((h) => create(JwtHeaderSchema, { name: h.name, valuePrefix: h.prefix ?? '' })),
    fromParams: [...(r.fromParams ?? [])],
    forward: r.forwardOriginalToken ?? false,
    forwardPayloadHeader: r.outputPayloadToHeader ?? '',
    payloadInMetadata: r.issuer,
    claimToHeaders: (r.outputClaimToHeaders ?? []).map((c) => create(JwtClaimToHeaderSchema, { headerName: c.header, claimName: c.claim })),
  });
}

/**
 * The cluster a JWKS URI is fetched through: `outbound|PORT||HOST`, the mesh service's own when
 * HOST:PORT is one (returned without a cluster: it exists already), else a DNS (or static, for
 * an IP) cluster of that name, with TLS verified against the system roots for https.
 */
export function jwksCluster(uri: string, index: MeshIndex): { name: string; cluster?: Cluster } {
  const u = new URL(uri);
  const https = u.protocol === 'https:';
  const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = u.port ? Number(u.port) : https ? 443 : 80;
  const name = outboundCluster(port, '', host);
  const svc = index.service(host);
  if (svc && svc.ports.some((p) => p.number === port)) return { name };
  const ip = isIP(host) !== 0;
  const cluster = create(ClusterSchema, {
    name,
    clusterDiscoveryType: { case: 'type', value: ip ? Cluster_DiscoveryType.STATIC : Cluster_DiscoveryType.STRICT_DNS },
    connectTimeout: seconds(10),
    lbPolicy: Cluster_LbPolicy.ROUND_ROBIN,
    loadAssignment: loadAssignment(name, [{ address: host, port, labels: {}, weight: 1, healthy: true, serviceAccount: '', source: 'jwks' }], 'sidecar'),
  });
  if (!ip) cluster.dnsLookupFamily = Cluster_DnsLookupFamily.V4_ONLY;
  if (https) cluster.transportSocket = systemTrustUpstream(host);
  return { name, cluster };
}
