/**
 * The benchmark's default source: the real control-plane path. A ConfigSnapshot like the one
 * ConfigStore holds (500 ServiceEntries with two endpoints each, a DestinationRule with subsets
 * v1/v2 per service, a VirtualService for every 10th service: header match plus a 90/10 split,
 * one with sourceLabels) goes through buildMesh (registry) and generate / shapeKey (translation)
 * exactly as src/control/mesh-xds.ts does: the mesh is rebuilt after each change and translated
 * once per proxy shape per push. Auto-registration of the connected sidecars is left out (their
 * workloads would be endpoints of no service here).
 *   - a route change: a new snapshot whose VirtualService "svc-0" has other weights;
 *   - an endpoint change: a new snapshot with one endpoint added to ServiceEntry "svc-1".
 */
import type { ConfigSnapshot, DestinationRule, ServiceEntry, VirtualService, WorkloadEntrySpec } from '../../../src/control/config/kinds.js';
import { buildMesh } from '../../../src/control/registry/mesh.js';
import type { MeshSnapshot } from '../../../src/control/registry/model.js';
import { generate, shapeKey, type ResourceScope } from '../../../src/control/translate/index.js';
import type { ProxyIdentity } from '../../../src/envoy/node-metadata.js';
import type { BenchSidecars, BenchSource } from './synthetic-mesh.js';

const NS = 'default';
const API = 'networking.istio.io/v1';
/** Service ports, as a mesh of Kubernetes services has a few common ones. */
const PORTS = [80, 8080, 9080, 8000];
const meta = (name: string) => ({ name, namespace: NS, creationTimestamp: '2026-01-01T00:00:00Z' });
export const benchHost = (i: number): string => `svc-${i}.${NS}.svc.cluster.local`;

function endpoint(i: number, k: number): WorkloadEntrySpec {
  return { address: `198.18.${(i >> 8) + 4 * k}.${i & 255}`, labels: { app: `svc-${i}`, version: k % 2 === 0 ? 'v1' : 'v2' } };
}

function serviceEntry(i: number, endpoints: number): ServiceEntry {
  return {
    apiVersion: API, kind: 'ServiceEntry', metadata: meta(`svc-${i}`),
    spec: {
      hosts: [benchHost(i)], addresses: [`198.19.${i >> 8}.${i & 255}`],
      ports: [{ number: PORTS[i % PORTS.length]!, name: 'http', protocol: 'HTTP', targetPort: 8080 }],
      location: 'MESH_INTERNAL', resolution: 'STATIC',
      endpoints: Array.from({ length: endpoints }, (_, k) => endpoint(i, k)),
    },
  };
}

function destinationRule(i: number): DestinationRule {
  return { apiVersion: API, kind: 'DestinationRule', metadata: meta(`svc-${i}`), spec: { host: benchHost(i), subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] } };
}

function virtualService(i: number, variant: number): VirtualService {
  const host = benchHost(i);
  const canary = 10 + (variant % 80);
  return {
    apiVersion: API, kind: 'VirtualService', metadata: meta(`svc-${i}`),
    spec: {
      hosts: [host],
      http: [
        { match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [{ destination: { host, subset: 'v2' } }] },
        ...(i === 10 ? [{ match: [{ sourceLabels: { app: 'app-3' } }], route: [{ destination: { host, subset: 'v2' } }] }] : []),
        { route: [{ destination: { host, subset: 'v1' }, weight: 100 - canary }, { destination: { host, subset: 'v2' }, weight: canary }], timeout: '5s', retries: { attempts: 2, retryOn: '5xx' } },
      ],
    },
  };
}

/** The real mesh of `services` services. Changes go to VirtualService svc-0 and ServiceEntry svc-1. */
export function realMesh(services = 500, sidecars: BenchSidecars = { capture: false }): BenchSource {
  const serviceEntries = Array.from({ length: services }, (_, i) => serviceEntry(i, 2));
  const destinationRules = Array.from({ length: services }, (_, i) => destinationRule(i));
  const virtualServices: VirtualService[] = [];
  for (let i = 0; i < services; i += 10) virtualServices.push(virtualService(i, 0));
  let config: ConfigSnapshot = { serviceEntries, workloadEntries: [], workloadGroups: [], destinationRules, virtualServices, peerAuthentications: [], authorizationPolicies: [], requestAuthentications: [], mesh: {}, version: 1 };
  let mesh: MeshSnapshot | undefined;
  let routeVariant = 0;
  let endpoints = 2;
  const current = (): MeshSnapshot => (mesh ??= buildMesh(config, []));
  const sample: ProxyIdentity = { id: 'sidecar~10.0.0.1~app-0.default~default.svc.cluster.local', name: 'app-0', namespace: NS, labels: { app: 'app-0' }, serviceAccount: 'default', ips: ['10.0.0.1'], generator: 'sidecar', inboundPort: 15006, outboundPort: 15001, appPorts: [8080], ...(sidecars.capture ? { interceptionMode: 'REDIRECT' as const } : {}) };
  const changed = (next: Partial<ConfigSnapshot>): void => { config = { ...config, ...next, version: config.version + 1 }; mesh = undefined; };
  return {
    routeNames: generate(current(), sample).routes.map((r) => r.name),
    source: {
      generate: (proxy: ProxyIdentity, scope?: ResourceScope) => generate(current(), proxy, scope),
      shapeKey: (proxy: ProxyIdentity) => shapeKey(proxy, current()),
    },
    changeRoute() {
      const vs = config.virtualServices.slice();
      const previous = vs[0]!;
      vs[0] = virtualService(0, ++routeVariant);
      changed({ virtualServices: vs });
      return [{ type: 'updated', resource: vs[0], previous }];
    },
    changeEndpoint() {
      const se = config.serviceEntries.slice();
      const previous = se[1]!;
      se[1] = serviceEntry(1, ++endpoints);
      changed({ serviceEntries: se });
      return [{ type: 'updated', resource: se[1], previous }];
    },
  };
}

/** The factory the benchmark's server process loads (the default; see control-plane.ts --source). */
export const createBenchSource: (services: number, sidecars?: BenchSidecars) => BenchSource = realMesh;
