/** What the injector puts into pods, besides what each pod's annotations override. */
export interface InjectOptions {
  /** The tsmesh container image (its ENTRYPOINT is `tsmesh`), for the sidecar and the init container. */
  readonly image: string;
  /** The control plane the sidecar connects to, HOST:PORT (Istio: istiod.istio-system.svc:15012). */
  readonly xdsAddress: string;
  /**
   * Where the sidecar reads its Kubernetes service account token (a projected volume with
   * audience `tsmesh-ca`) to authenticate to the CA; undefined: no token volume and no flag.
   */
  readonly tokenFile?: string;
  /** The sidecar's user id; the iptables rules let its own traffic out uncaptured. */
  readonly proxyUid: number;
  /** Ports of the sidecar (Istio's defaults). */
  readonly outboundPort: number;
  readonly inboundPort: number;
  readonly statusPort: number;
  readonly adminPort: number;
  /** Prometheus scrape port: excluded from inbound capture. */
  readonly prometheusPort: number;
  readonly resources: { readonly requests: { readonly cpu: string; readonly memory: string }; readonly limits: { readonly cpu: string; readonly memory: string } };
  /** Recorded in the status annotation. */
  readonly version: string;
}

export const TOKEN_AUDIENCE = 'tsmesh-ca';
export const TOKEN_DIR = '/var/run/secrets/tsmesh';

/** Istio's defaults for each value (values.yaml global.proxy, meshConfig). */
export function defaultInjectOptions(version: string): InjectOptions {
  return {
    image: `tsmesh/tsmesh:${version}`,
    xdsAddress: 'istiod.tsmesh-system.svc:15012',
    tokenFile: `${TOKEN_DIR}/token`,
    proxyUid: 1337,
    outboundPort: 15001,
    inboundPort: 15006,
    statusPort: 15021,
    adminPort: 15000,
    prometheusPort: 15090,
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '2000m', memory: '1024Mi' } },
    version,
  };
}

/** Names of what gets injected (Istio: istio-init, istio-proxy, istio-envoy, istio-token). */
export const INIT_CONTAINER = 'tsmesh-init';
export const PROXY_CONTAINER = 'tsmesh-proxy';
export const SCRATCH_VOLUME = 'tsmesh-envoy';
export const TOKEN_VOLUME = 'tsmesh-token';
