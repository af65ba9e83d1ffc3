/*
 * The containers and volumes injected into a pod, shaped like Istio's injection template
 * (manifests/charts/istio-control/istio-discovery/files/injection-template.yaml): an init
 * container that installs the iptables capture, the proxy container running as uid 1337 with
 * a readiness probe on the status port, and the volumes they need. Pure.
 */
import type { JsonObject } from './json.js';
import type { PodOverrides } from './annotations.js';
import { INIT_CONTAINER, PROXY_CONTAINER, SCRATCH_VOLUME, TOKEN_AUDIENCE, TOKEN_VOLUME, type InjectOptions } from './options.js';

/** Istio's port that pilot-agent serves besides 15021; kept out of capture as Istio does. */
const AGENT_PORT = 15020;

/**
 * `tsmesh iptables` arguments, with istio-iptables' flag letters as Istio's template passes them:
 * -p --envoy-port, -z --inbound-capture-port, -u --proxy-uid, -m --istio-inbound-interception-mode,
 * -i --istio-service-cidr, -x --istio-service-exclude-cidr, -b --istio-inbound-ports,
 * -d --istio-local-exclude-ports, -o --istio-local-outbound-ports-exclude.
 */
export function iptablesArgs(o: InjectOptions, ov: PodOverrides): string[] {
  const excludeInbound = [o.prometheusPort, o.statusPort, AGENT_PORT].map(String);
  if (ov.excludeInboundPorts) excludeInbound.push(...ov.excludeInboundPorts.split(',').filter((p) => !excludeInbound.includes(p)));
  const args = [
    'iptables',
    '-p', String(o.outboundPort),
    '-z', String(o.inboundPort),
    '-u', String(o.proxyUid),
    '-m', 'REDIRECT',
    '-i', ov.includeOutboundIPRanges ?? '*',
    '-x', ov.excludeOutboundIPRanges ?? '',
    '-b', ov.includeInboundPorts ?? '*',
    '-d', excludeInbound.join(','),
  ];
  if (ov.excludeOutboundPorts) args.push('-o', ov.excludeOutboundPorts);
  return args;
}

function resources(o: InjectOptions, ov: PodOverrides): JsonObject {
  return {
    requests: { cpu: ov.proxyCPU ?? o.resources.requests.cpu, memory: ov.proxyMemory ?? o.resources.requests.memory },
    limits: { cpu: ov.proxyCPULimit ?? o.resources.limits.cpu, memory: ov.proxyMemoryLimit ?? o.resources.limits.memory },
  };
}

export function initContainer(o: InjectOptions, ov: PodOverrides): JsonObject {
  return {
    name: INIT_CONTAINER,
    image: o.image,
    args: iptablesArgs(o, ov),
    resources: resources(o, ov),
    // Root with NET_ADMIN/NET_RAW only: what changing the pod's netfilter tables needs.
    securityContext: {
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: false,
      runAsUser: 0,
      runAsGroup: 0,
      runAsNonRoot: false,
      capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] },
    },
  };
}

/** `$(VAR)` is expanded by the kubelet from the container's env (the downward API values below). */
export function proxyContainer(o: InjectOptions, ov: PodOverrides, labels: Readonly<Record<string, string>>, appPorts: readonly number[]): JsonObject {
  const args = [
    'proxy',
    '--xds', o.xdsAddress,
    '--name', '$(POD_NAME)',
    '--namespace', '$(POD_NAMESPACE)',
    '--service-account', '$(SERVICE_ACCOUNT)',
    '--ip', '$(INSTANCE_IP)',
    ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
    ...appPorts.flatMap((p) => ['--app-port', String(p)]),
    '--outbound-port', String(o.outboundPort),
    '--inbound-port', String(o.inboundPort),
    '--admin-port', String(o.adminPort),
    '--status-port', String(o.statusPort),
    // The init container's iptables rules capture the pod's traffic (Istio's INTERCEPTION_MODE).
    '--interception-mode', 'REDIRECT',
    ...(o.tokenFile ? ['--token-file', o.tokenFile] : []),
  ];
  const fieldRef = (path: string): JsonObject => ({ valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: path } } });
  return {
    name: PROXY_CONTAINER,
    image: o.image,
    args,
    env: [
      { name: 'POD_NAME', ...fieldRef('metadata.name') },
      { name: 'POD_NAMESPACE', ...fieldRef('metadata.namespace') },
      { name: 'INSTANCE_IP', ...fieldRef('status.podIP') },
      { name: 'SERVICE_ACCOUNT', ...fieldRef('spec.serviceAccountName') },
    ],
    ports: [{ name: 'http-health', containerPort: o.statusPort, protocol: 'TCP' }],
    // Istio's probe timings: ready within a minute of start, checked every 2 s.
    readinessProbe: {
      httpGet: { path: '/healthz/ready', port: o.statusPort },
      initialDelaySeconds: 1,
      periodSeconds: 2,
      timeoutSeconds: 3,
      failureThreshold: 30,
    },
    resources: resources(o, ov),
    securityContext: {
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsUser: o.proxyUid,
      runAsGroup: o.proxyUid,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: [
      { name: SCRATCH_VOLUME, mountPath: '/etc/tsmesh/proxy' },
      ...(o.tokenFile ? [{ name: TOKEN_VOLUME, mountPath: dirOf(o.tokenFile), readOnly: true }] : []),
    ],
  };
}

export function volumes(o: InjectOptions): JsonObject[] {
  return [
    { name: SCRATCH_VOLUME, emptyDir: { medium: 'Memory' } },
    // A short-lived token for the CA only (audience), as Istio's istio-token volume.
    ...(o.tokenFile ? [{ name: TOKEN_VOLUME, projected: { sources: [{ serviceAccountToken: { audience: TOKEN_AUDIENCE, expirationSeconds: 43200, path: baseOf(o.tokenFile) } }] } }] : []),
  ];
}

function dirOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

function baseOf(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}
