import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { startMesh, type Mesh } from '../../support/running-mesh.js';
import { repoRoot } from '../../support/proxy.js';

/*
 * Proxyless gRPC against the real control plane: two grpc-js servers are the workloads of a
 * ServiceEntry (as WorkloadEntries), and a @grpc/grpc-js-xds client in its own process (its
 * bootstrap says GENERATOR=grpc, as Istio's proxyless bootstrap does) dials
 * xds:///echo.default.svc.cluster.local:7070 with no sidecar anywhere.
 */
const proto = grpc.loadPackageDefinition(protoLoader.loadSync(join(repoRoot(), 'test/fixtures/echo.proto'))) as unknown as { tsmesh: { test: { Echo: grpc.ServiceClientConstructor } } };
const servers: grpc.Server[] = [];
let mesh: Mesh;
let ports: { v1: number; v2: number };

async function echoServer(version: string): Promise<number> {
  const s = new grpc.Server();
  s.addService(proto.tsmesh.test.Echo.service, {
    Say: (_call: unknown, cb: grpc.sendUnaryData<{ text: string }>) => cb(null, { text: version }),
    Stream: (call: grpc.ServerWritableStream<unknown, unknown>) => call.end(),
    Fail: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb({ code: grpc.status.INTERNAL, details: 'fail' }),
  });
  servers.push(s);
  return new Promise((resolve, reject) => s.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
}

before(async () => {
  ports = { v1: await echoServer('v1'), v2: await echoServer('v2') };
  mesh = await startMesh();
});
after(async () => {
  await mesh?.close();
  for (const s of servers) s.forceShutdown();
});

const config = (route: string): string => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: echo }
spec:
  hosts: [echo.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 7070, name: grpc, protocol: GRPC }]
  workloadSelector: { labels: { app: echo } }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: echo-v1 }
spec: { address: 127.0.0.1, ports: { grpc: ${ports.v1} }, labels: { app: echo, version: v1 } }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: echo-v2 }
spec: { address: 127.0.0.1, ports: { grpc: ${ports.v2} }, labels: { app: echo, version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: echo }
spec:
  host: echo
  subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: echo }
spec:
  hosts: [echo]
  http:
  - route:
${route}
`;

/** Runs the grpc-js-xds client process; resolves with who answered each call. */
function proxylessCalls(calls: number): Promise<{ answers?: string[]; error?: string }> {
  const bootstrap = join(mesh.dataDir, 'grpc-bootstrap.json');
  writeFileSync(bootstrap, JSON.stringify({
    xds_servers: [{ server_uri: `127.0.0.1:${mesh.xdsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: 'sidecar~127.0.0.1~echo-client.default~default.svc.cluster.local', locality: {}, metadata: { GENERATOR: 'grpc', NAME: 'echo-client', NAMESPACE: 'default', LABELS: { app: 'echo-client' } } },
  }));
  const script = join(repoRoot(), 'dist/test/control/xds/xds-echo-client.js');
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [script, 'echo.default.svc.cluster.local:7070', String(calls), '20000'], { env: { ...process.env, GRPC_XDS_BOOTSTRAP: bootstrap }, timeout: 60_000 }, (err, stdout, stderr) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      try { resolve(JSON.parse(line) as { answers?: string[]; error?: string }); } catch { reject(new Error(`client failed: ${err?.message ?? ''}\n${stdout}\n${stderr}`)); }
    });
  });
}

test('a @grpc/grpc-js-xds client programmed by tsmesh control reaches both subsets of a weighted split', async () => {
  await mesh.apply(config(`    - { destination: { host: echo, subset: v1 }, weight: 50 }
    - { destination: { host: echo, subset: v2 }, weight: 50 }`));
  const split = await proxylessCalls(40);
  assert.equal(split.error, undefined, split.error);
  assert.equal(split.answers!.length, 40);
  assert.deepEqual([...new Set(split.answers)].sort(), ['v1', 'v2'], `both subsets answer (all one: 2^-39): ${split.answers!.join(' ')}`);

  await mesh.apply(config('    - { destination: { host: echo, subset: v2 } }'));
  const moved = await proxylessCalls(10);
  assert.deepEqual(moved, { answers: Array(10).fill('v2') }, 'a routing change reaches new proxyless clients');
});
