import { anyUnpack } from '@bufbuild/protobuf/wkt';
import type { Any } from '@bufbuild/protobuf/wkt';
import { createRegistry } from '@bufbuild/protobuf';
import { AdsServer, type AdsServerOptions } from '../../../src/control/xds/server.js';
import type { ResourceSource } from '../../../src/control/xds/source.js';
import { ListenerSchema } from '../../../src/envoy/generated/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../../../src/envoy/generated/envoy/config/route/v3/route_pb.js';
import { ClusterSchema } from '../../../src/envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../../src/envoy/generated/envoy/config/endpoint/v3/endpoint_pb.js';

export const logs: string[] = [];

/** A server on a free loopback port with a short debounce (tests that measure it set their own). */
export async function startServer(source: ResourceSource, opts: AdsServerOptions = {}): Promise<{ server: AdsServer; port: number }> {
  const server = new AdsServer(source, { debounce: { quietMs: 10, maxDelayMs: 100 }, log: (l) => logs.push(l), ...opts });
  const port = await server.listen('127.0.0.1', 0);
  return { server, port };
}

const registry = createRegistry(ListenerSchema, RouteConfigurationSchema, ClusterSchema, ClusterLoadAssignmentSchema);

/** The names of the resources in a response (listener/route/cluster name, CLA cluster name). */
export function namesOf(resources: readonly (Any | undefined)[]): string[] {
  return resources.map((a) => {
    const m = a ? anyUnpack(a, registry) as { name?: string; clusterName?: string } | undefined : undefined;
    return m?.clusterName ?? m?.name ?? '?';
  });
}

/** Polls `cond` until true; fails with `what` after a generous deadline. */
export async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
