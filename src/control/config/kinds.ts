/*
 * Istio's mesh API kinds, with Istio's field names (networking.istio.io/v1). These are not Envoy
 * messages: they are the user-facing YAML, parsed and validated by src/control/config/validate*.
 * Durations are Istio's strings ("1.5s", "100ms"); percentages are { value: number }.
 * Only the fields tsmesh implements are here; anything else in a resource is rejected with its path.
 */

export interface ObjectMeta {
  name: string;
  namespace: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Set by the store: increases with every change of this resource. */
  resourceVersion?: string;
  creationTimestamp?: string;
}

export interface StringMatch { exact?: string; prefix?: string; regex?: string }
export interface Percent { value: number }
export interface PortSelector { number: number }

// --- ServiceEntry / WorkloadEntry / WorkloadGroup -------------------------------------------

export interface ServicePort {
  number: number;
  /** HTTP, HTTPS, HTTP2, GRPC, TCP, TLS, MONGO, ... (Istio's names, case-insensitive). */
  protocol?: string;
  name: string;
  targetPort?: number;
}

export interface WorkloadEntrySpec {
  address?: string;
  ports?: Record<string, number>;
  labels?: Record<string, string>;
  network?: string;
  locality?: string;
  weight?: number;
  serviceAccount?: string;
}

export interface ServiceEntrySpec {
  hosts: string[];
  addresses?: string[];
  ports?: ServicePort[];
  location?: 'MESH_EXTERNAL' | 'MESH_INTERNAL';
  resolution?: 'NONE' | 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN';
  endpoints?: WorkloadEntrySpec[];
  workloadSelector?: { labels: Record<string, string> };
  exportTo?: string[];
  subjectAltNames?: string[];
}

export interface WorkloadGroupSpec {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  template: WorkloadEntrySpec;
}

// --- DestinationRule ----------------------------------------------------------------------

export interface ConsistentHashLB {
  httpHeaderName?: string;
  httpCookie?: { name: string; path?: string; ttl?: string };
  useSourceIp?: boolean;
  httpQueryParameterName?: string;
  ringHash?: { minimumRingSize?: number };
  maglev?: { tableSize?: number };
  /** Deprecated in Istio in favour of ringHash.minimumRingSize; still accepted. */
  minimumRingSize?: number;
}

export interface LoadBalancerSettings {
  simple?: 'UNSPECIFIED' | 'LEAST_CONN' | 'RANDOM' | 'PASSTHROUGH' | 'ROUND_ROBIN' | 'LEAST_REQUEST';
  consistentHash?: ConsistentHashLB;
}

export interface ConnectionPoolSettings {
  tcp?: { maxConnections?: number; connectTimeout?: string; maxConnectionDuration?: string; idleTimeout?: string };
  http?: {
    http1MaxPendingRequests?: number;
    http2MaxRequests?: number;
    maxRequestsPerConnection?: number;
    maxRetries?: number;
    idleTimeout?: string;
    h2UpgradePolicy?: 'DEFAULT' | 'DO_NOT_UPGRADE' | 'UPGRADE';
    useClientProtocol?: boolean;
    maxConcurrentStreams?: number;
  };
}

export interface OutlierDetection {
  /** Deprecated Istio alias of consecutive5xxErrors semantics on gateway errors; accepted. */
  consecutiveErrors?: number;
  consecutiveGatewayErrors?: number;
  consecutive5xxErrors?: number;
  consecutiveLocalOriginFailures?: number;
  splitExternalLocalOriginErrors?: boolean;
  interval?: string;
  baseEjectionTime?: string;
  maxEjectionPercent?: number;
  minHealthPercent?: number;
}

export interface PortTrafficPolicy {
  port?: PortSelector;
  loadBalancer?: LoadBalancerSettings;
  connectionPool?: ConnectionPoolSettings;
  outlierDetection?: OutlierDetection;
  tls?: ClientTLSSettings;
}

/** DestinationRule ClientTLSSettings (Istio's names; credentialName is refused: no secret store for it). */
export interface ClientTLSSettings {
  mode: 'DISABLE' | 'SIMPLE' | 'MUTUAL' | 'ISTIO_MUTUAL';
  clientCertificate?: string;
  privateKey?: string;
  caCertificates?: string;
  subjectAltNames?: string[];
  sni?: string;
  insecureSkipVerify?: boolean;
}

export interface TrafficPolicy {
  loadBalancer?: LoadBalancerSettings;
  connectionPool?: ConnectionPoolSettings;
  outlierDetection?: OutlierDetection;
  tls?: ClientTLSSettings;
  portLevelSettings?: PortTrafficPolicy[];
}

export interface Subset { name: string; labels?: Record<string, string>; trafficPolicy?: TrafficPolicy }

export interface DestinationRuleSpec {
  host: string;
  trafficPolicy?: TrafficPolicy;
  subsets?: Subset[];
  exportTo?: string[];
  workloadSelector?: { matchLabels: Record<string, string> };
}

// --- VirtualService -----------------------------------------------------------------------

export interface Destination { host: string; subset?: string; port?: PortSelector }

export interface HeaderOperations { set?: Record<string, string>; add?: Record<string, string>; remove?: string[] }
export interface Headers { request?: HeaderOperations; response?: HeaderOperations }

export interface HTTPMatchRequest {
  name?: string;
  uri?: StringMatch;
  scheme?: StringMatch;
  method?: StringMatch;
  authority?: StringMatch;
  headers?: Record<string, StringMatch>;
  port?: number;
  sourceLabels?: Record<string, string>;
  gateways?: string[];
  queryParams?: Record<string, StringMatch>;
  ignoreUriCase?: boolean;
  withoutHeaders?: Record<string, StringMatch>;
  sourceNamespace?: string;
}

export interface HTTPRouteDestination { destination: Destination; weight?: number; headers?: Headers }

export interface HTTPRedirect {
  uri?: string;
  authority?: string;
  port?: number;
  derivePort?: 'FROM_PROTOCOL_DEFAULT' | 'FROM_REQUEST_PORT';
  scheme?: string;
  redirectCode?: number;
}

export interface HTTPRewrite { uri?: string; authority?: string; uriRegexRewrite?: { match: string; rewrite: string } }

export interface HTTPRetry { attempts?: number; perTryTimeout?: string; retryOn?: string; retryRemoteLocalities?: boolean }

export interface HTTPFaultInjection {
  delay?: { fixedDelay: string; percentage?: Percent };
  abort?: { httpStatus?: number; grpcStatus?: string; percentage?: Percent };
}

export interface CorsPolicy {
  allowOrigins?: StringMatch[];
  allowMethods?: string[];
  allowHeaders?: string[];
  exposeHeaders?: string[];
  maxAge?: string;
  allowCredentials?: boolean;
}

export interface HTTPDirectResponse { status: number; body?: { string?: string; bytes?: string } }

export interface HTTPRoute {
  name?: string;
  match?: HTTPMatchRequest[];
  route?: HTTPRouteDestination[];
  redirect?: HTTPRedirect;
  directResponse?: HTTPDirectResponse;
  rewrite?: HTTPRewrite;
  timeout?: string;
  retries?: HTTPRetry;
  fault?: HTTPFaultInjection;
  mirror?: Destination;
  mirrorPercentage?: Percent;
  corsPolicy?: CorsPolicy;
  headers?: Headers;
}

export interface L4MatchAttributes {
  destinationSubnets?: string[];
  port?: number;
  sourceLabels?: Record<string, string>;
  gateways?: string[];
  sourceNamespace?: string;
}

export interface RouteDestination { destination: Destination; weight?: number }
export interface TCPRoute { match?: L4MatchAttributes[]; route: RouteDestination[] }

export interface VirtualServiceSpec {
  hosts: string[];
  /** Only `mesh` (the default when empty) is supported until gateways exist. */
  gateways?: string[];
  http?: HTTPRoute[];
  tcp?: TCPRoute[];
  exportTo?: string[];
}

// --- Security (security.istio.io/v1) -------------------------------------------------------

export interface WorkloadSelector { matchLabels?: Record<string, string> }

export type MtlsMode = 'UNSET' | 'DISABLE' | 'PERMISSIVE' | 'STRICT';

export interface PeerAuthenticationSpec {
  selector?: WorkloadSelector;
  mtls?: { mode?: MtlsMode };
  /** Keyed by the workload's port number (as a string, like Istio's map<uint32, ...> in YAML). */
  portLevelMtls?: Record<string, { mode?: MtlsMode }>;
}

export interface AuthzSource {
  principals?: string[];
  notPrincipals?: string[];
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  ipBlocks?: string[];
  notIpBlocks?: string[];
  remoteIpBlocks?: string[];
  notRemoteIpBlocks?: string[];
}

export interface AuthzOperation {
  hosts?: string[];
  notHosts?: string[];
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
}

export interface AuthzCondition { key: string; values?: string[]; notValues?: string[] }

export interface AuthzRule {
  from?: { source?: AuthzSource }[];
  to?: { operation?: AuthzOperation }[];
  when?: AuthzCondition[];
}

export interface AuthorizationPolicySpec {
  selector?: WorkloadSelector;
  action?: 'ALLOW' | 'DENY' | 'AUDIT';
  rules?: AuthzRule[];
}

export interface JwtHeader { name: string; prefix?: string }
export interface ClaimToHeader { header: string; claim: string }

export interface JWTRule {
  issuer: string;
  audiences?: string[];
  jwksUri?: string;
  jwks?: string;
  fromHeaders?: JwtHeader[];
  fromParams?: string[];
  outputPayloadToHeader?: string;
  forwardOriginalToken?: boolean;
  outputClaimToHeaders?: ClaimToHeader[];
}

export interface RequestAuthenticationSpec {
  selector?: WorkloadSelector;
  jwtRules?: JWTRule[];
}

// --- MeshConfig ---------------------------------------------------------------------------

/** Istio's MeshConfig (the `mesh` key of istio's ConfigMap): the subset tsmesh honours. */
export interface MeshConfigSpec {
  /** SPIFFE trust domain of workload identities; Istio's default cluster.local. */
  trustDomain?: string;
  /** Policies (PeerAuthentication, AuthorizationPolicy, RequestAuthentication) here apply mesh-wide; Istio's default istio-system. */
  rootNamespace?: string;
  outboundTrafficPolicy?: { mode: 'ALLOW_ANY' | 'REGISTRY_ONLY' };
  defaultConfig?: {
    concurrency?: number;
    drainDuration?: string;
    terminationDrainDuration?: string;
    proxyStatsMatcher?: never;
  };
  /** Access log file for every proxy ("" = off, "/dev/stdout"). */
  accessLogFile?: string;
  enableTracing?: boolean;
}

// --- The envelope -------------------------------------------------------------------------

interface Resource<K extends string, S> {
  apiVersion: string;
  kind: K;
  metadata: ObjectMeta;
  spec: S;
}

export type ServiceEntry = Resource<'ServiceEntry', ServiceEntrySpec>;
export type WorkloadEntry = Resource<'WorkloadEntry', WorkloadEntrySpec>;
export type WorkloadGroup = Resource<'WorkloadGroup', WorkloadGroupSpec>;
export type DestinationRule = Resource<'DestinationRule', DestinationRuleSpec>;
export type VirtualService = Resource<'VirtualService', VirtualServiceSpec>;
/** One per mesh, name "mesh" in the root namespace by convention (apiVersion tsmesh.io/v1). */
export type MeshConfig = Resource<'MeshConfig', MeshConfigSpec>;
export type PeerAuthentication = Resource<'PeerAuthentication', PeerAuthenticationSpec>;
export type AuthorizationPolicy = Resource<'AuthorizationPolicy', AuthorizationPolicySpec>;
export type RequestAuthentication = Resource<'RequestAuthentication', RequestAuthenticationSpec>;

export type MeshResource = ServiceEntry | WorkloadEntry | WorkloadGroup | DestinationRule | VirtualService | MeshConfig
  | PeerAuthentication | AuthorizationPolicy | RequestAuthentication;
export type Kind = MeshResource['kind'];

export const KINDS: Readonly<Record<Kind, { apiVersions: readonly string[]; plural: string }>> = {
  ServiceEntry: { apiVersions: ['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3'], plural: 'serviceentries' },
  WorkloadEntry: { apiVersions: ['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3'], plural: 'workloadentries' },
  WorkloadGroup: { apiVersions: ['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3'], plural: 'workloadgroups' },
  DestinationRule: { apiVersions: ['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3'], plural: 'destinationrules' },
  VirtualService: { apiVersions: ['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3'], plural: 'virtualservices' },
  MeshConfig: { apiVersions: ['tsmesh.io/v1'], plural: 'meshconfigs' },
  PeerAuthentication: { apiVersions: ['security.istio.io/v1', 'security.istio.io/v1beta1'], plural: 'peerauthentications' },
  AuthorizationPolicy: { apiVersions: ['security.istio.io/v1', 'security.istio.io/v1beta1'], plural: 'authorizationpolicies' },
  RequestAuthentication: { apiVersions: ['security.istio.io/v1', 'security.istio.io/v1beta1'], plural: 'requestauthentications' },
};

/** What the translation reads: every stored resource, grouped by kind, plus the mesh config. */
export interface ConfigSnapshot {
  readonly serviceEntries: readonly ServiceEntry[];
  readonly workloadEntries: readonly WorkloadEntry[];
  readonly workloadGroups: readonly WorkloadGroup[];
  readonly destinationRules: readonly DestinationRule[];
  readonly virtualServices: readonly VirtualService[];
  readonly peerAuthentications: readonly PeerAuthentication[];
  readonly authorizationPolicies: readonly AuthorizationPolicy[];
  readonly requestAuthentications: readonly RequestAuthentication[];
  readonly mesh: MeshConfigSpec;
  /** Changes with every stored change; the xDS version of a push derives from it. */
  readonly version: number;
}
