/**
 * How long the pure translation takes for one proxy shape on a mesh of N services (each with
 * two endpoints, a DestinationRule with two subsets, every other one a VirtualService with a
 * header match and a 90/10 split), and how big the result is serialized. The xDS server runs
 * generate() once per distinct shapeKey per push. Prints numbers; never fails on time.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/control-translate.js [services=500] [rounds=10] [--mtls]
 *
 * --mtls: every endpoint and the proxy are mesh workloads (label security.istio.io/tlsMode:
 * istio), with a mesh-wide STRICT PeerAuthentication and a namespace AuthorizationPolicy, so
 * every cluster gets auto-mTLS transport socket matches and SPIFFE SANs.
 */
import { toBinary } from '@bufbuild/protobuf';
import type { AuthorizationPolicy, ConfigSnapshot, DestinationRule, PeerAuthentication, ServiceEntry, VirtualService } from '../src/control/config/kinds.js';
import { buildMesh } from '../src/control/registry/mesh.js';
import { generate } from '../src/control/translate/index.js';
import { ListenerSchema } from '../src/envoy/generated/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../src/envoy/generated/envoy/config/route/v3/route_pb.js';
import { ClusterSchema } from '../src/envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../src/envoy/generated/envoy/config/endpoint/v3/endpoint_pb.js';
import type { ProxyIdentity } from '../src/envoy/node-metadata.js';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const mtls = process.argv.includes('--mtls');
const services = Number(args[0] ?? '500');
const rounds = Number(args[1] ?? '10');
const tlsLabel: Record<string, string> = mtls ? { 'security.istio.io/tlsMode': 'istio' } : {};
const NS = 'default';
const meta = (name: string) => ({ name, namespace: NS, creationTimestamp: '2026-01-01T00:00:00Z' });
const api = 'networking.istio.io/v1';

const serviceEntries: ServiceEntry[] = [];
const destinationRules: DestinationRule[] = [];
const virtualServices: VirtualService[] = [];
for (let i = 0; i < services; i++) {
  const host = `s${i}.${NS}.svc.cluster.local`;
  serviceEntries.push({
    apiVersion: api, kind: 'ServiceEntry', metadata: meta(`s${i}`),
    spec: {
      hosts: [host], ports: [{ number: 8000 + (i % 10), name: 'http', protocol: 'HTTP' }], resolution: 'STATIC', location: 'MESH_INTERNAL',
      endpoints: [{ address: `10.0.${i >> 8}.${i & 255}`, labels: { version: 'v1', ...tlsLabel }, serviceAccount: `s${i}` }, { address: `10.1.${i >> 8}.${i & 255}`, labels: { version: 'v2', ...tlsLabel }, serviceAccount: `s${i}` }],
    },
  });
  destinationRules.push({ apiVersion: api, kind: 'DestinationRule', metadata: meta(`s${i}`), spec: { host, subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] } });
  if (i % 2 === 0) {
    virtualServices.push({
      apiVersion: api, kind: 'VirtualService', metadata: meta(`s${i}`),
      spec: {
        hosts: [host],
        http: [
          { match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [{ destination: { host, subset: 'v2' } }] },
          { route: [{ destination: { host, subset: 'v1' }, weight: 90 }, { destination: { host, subset: 'v2' }, weight: 10 }] },
        ],
      },
    });
  }
}
const sec = 'security.istio.io/v1';
const peerAuthentications: PeerAuthentication[] = mtls ? [{ apiVersion: sec, kind: 'PeerAuthentication', metadata: { ...meta('default'), namespace: 'istio-system' }, spec: { mtls: { mode: 'STRICT' } } }] : [];
const authorizationPolicies: AuthorizationPolicy[] = mtls ? [{ apiVersion: sec, kind: 'AuthorizationPolicy', metadata: meta('ns'), spec: { rules: [{ from: [{ source: { namespaces: [NS] } }], to: [{ operation: { methods: ['GET'] } }] }] } }] : [];
const config: ConfigSnapshot = { serviceEntries, workloadEntries: [], workloadGroups: [], destinationRules, virtualServices, peerAuthentications, authorizationPolicies, requestAuthentications: [], mesh: {}, version: 1 };
const proxy: ProxyIdentity = { id: 'sidecar~127.0.0.1~p.default~default.svc.cluster.local', name: 'p', namespace: NS, labels: { app: 'p', ...tlsLabel }, serviceAccount: 'default', ips: ['127.0.0.1'], generator: 'sidecar', inboundPort: 15006, outboundPort: 15001, appPorts: [8080] };

let t = process.hrtime.bigint();
const mesh = buildMesh(config, [proxy]);
const buildMs = Number(process.hrtime.bigint() - t) / 1e6;
const times: number[] = [];
let res = generate(mesh, proxy);
for (let r = 0; r < rounds; r++) {
  t = process.hrtime.bigint();
  // A new label per round: a new shape, as the xDS server would see it.
  res = generate(mesh, { ...proxy, labels: { ...proxy.labels, round: String(r) } });
  times.push(Number(process.hrtime.bigint() - t) / 1e6);
}
times.sort((a, b) => a - b);
const bytes = res.listeners.reduce((s, m) => s + toBinary(ListenerSchema, m).length, 0)
  + res.routes.reduce((s, m) => s + toBinary(RouteConfigurationSchema, m).length, 0)
  + res.clusters.reduce((s, m) => s + toBinary(ClusterSchema, m).length, 0)
  + res.endpoints.reduce((s, m) => s + toBinary(ClusterLoadAssignmentSchema, m).length, 0);
console.log(`services ${services}${mtls ? ' (mTLS, STRICT, one AuthorizationPolicy)' : ''}: buildMesh ${buildMs.toFixed(1)} ms; generate per shape min ${times[0]!.toFixed(1)} ms, median ${times[times.length >> 1]!.toFixed(1)} ms (${rounds} rounds)`);
console.log(`output: ${res.listeners.length} listeners, ${res.routes.length} route configurations, ${res.clusters.length} clusters, ${res.endpoints.length} assignments, ${(bytes / 1024).toFixed(0)} KiB serialized`);
