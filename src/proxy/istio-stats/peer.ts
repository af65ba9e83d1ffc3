/**
 * Who is at each end of an edge, as Istio's standard metrics label it, and the metadata exchange
 * that tells each sidecar about the other: Istio's `x-envoy-peer-metadata` header carries the
 * sender's node metadata as a base64 google.protobuf.Struct, `x-envoy-peer-metadata-id` its node
 * id (istio/proxy, extensions/metadata_exchange). The client sidecar adds them to the request,
 * the server sidecar to the response; each removes the other's before the app sees them. Pure.
 */
import { fromBinary, fromJson, toBinary, toJson, type JsonObject, type JsonValue } from '@bufbuild/protobuf';
import { StructSchema } from '@bufbuild/protobuf/wkt';
import { DEFAULT_TRUST_DOMAIN, spiffeId } from '../../pki/spiffe.js';

export const PEER_METADATA_HEADER = 'x-envoy-peer-metadata';
export const PEER_METADATA_ID_HEADER = 'x-envoy-peer-metadata-id';

/** A workload's labels for Istio's metrics; every field has Istio's value when unknown. */
export interface PeerNode {
  readonly workload: string;
  readonly namespace: string;
  readonly app: string;
  readonly version: string;
  readonly canonicalService: string;
  readonly canonicalRevision: string;
  readonly cluster: string;
  /** spiffe://cluster.local/ns/NS/sa/SA, from its SERVICE_ACCOUNT; the TLS principal when there is one wins. */
  readonly principal: string;
}

export const UNKNOWN = 'unknown';

export const UNKNOWN_PEER: PeerNode = Object.freeze({
  workload: UNKNOWN, namespace: UNKNOWN, app: UNKNOWN, version: UNKNOWN,
  canonicalService: UNKNOWN, canonicalRevision: UNKNOWN, cluster: UNKNOWN, principal: UNKNOWN,
});

/** The node metadata keys a sidecar sends its peers (Istio's exchange keys that tsmesh sets). */
const EXCHANGED = ['NAME', 'NAMESPACE', 'LABELS', 'WORKLOAD_NAME', 'SERVICE_ACCOUNT', 'CLUSTER_ID', 'MESH_ID', 'INSTANCE_IPS'] as const;

/**
 * A node's labels from its metadata (Istio's keys): workload WORKLOAD_NAME, else NAME; app and
 * version from the `app` / `version` labels (or app.kubernetes.io/name and /version); canonical
 * service and revision from `service.istio.io/canonical-*`, else app / version ("latest");
 * cluster CLUSTER_ID, else "Kubernetes" as Istio defaults it.
 */
export function peerFromMetadata(md: JsonObject | undefined, trustDomain = DEFAULT_TRUST_DOMAIN): PeerNode {
  if (!md) return UNKNOWN_PEER;
  const str = (k: string): string | undefined => { const v = md[k]; return typeof v === 'string' && v !== '' ? v : undefined; };
  const rawLabels = md['LABELS'];
  const labels: Record<string, string> = {};
  if (rawLabels && typeof rawLabels === 'object' && !Array.isArray(rawLabels)) {
    for (const [k, v] of Object.entries(rawLabels as Record<string, JsonValue>)) if (typeof v === 'string') labels[k] = v;
  }
  const workload = str('WORKLOAD_NAME') ?? str('NAME') ?? UNKNOWN;
  const namespace = str('NAMESPACE') ?? UNKNOWN;
  const app = labels['app'] ?? labels['app.kubernetes.io/name'] ?? UNKNOWN;
  const version = labels['version'] ?? labels['app.kubernetes.io/version'] ?? UNKNOWN;
  const sa = str('SERVICE_ACCOUNT');
  return {
    workload,
    namespace,
    app,
    version,
    canonicalService: labels['service.istio.io/canonical-name'] ?? (app !== UNKNOWN ? app : workload),
    canonicalRevision: labels['service.istio.io/canonical-revision'] ?? (version !== UNKNOWN ? version : 'latest'),
    cluster: str('CLUSTER_ID') ?? 'Kubernetes',
    principal: sa && namespace !== UNKNOWN ? spiffeId({ trustDomain, namespace, serviceAccount: sa }) : UNKNOWN,
  };
}

/** The part of a node's metadata it tells its peers (its exchange keys). */
export function exchangedMetadata(md: JsonObject | undefined): JsonObject {
  const picked: JsonObject = {};
  for (const k of EXCHANGED) if (md?.[k] !== undefined) picked[k] = md[k]!;
  return picked;
}

/** The x-envoy-peer-metadata value a node sends: base64 of the Struct of its exchanged keys. */
export function encodePeerMetadata(md: JsonObject | undefined): string {
  return Buffer.from(toBinary(StructSchema, fromJson(StructSchema, exchangedMetadata(md)))).toString('base64');
}

/** The metadata in an x-envoy-peer-metadata value; undefined when it is not one (never throws). */
export function decodePeerMetadata(value: string): JsonObject | undefined {
  try {
    const bytes = Buffer.from(value, 'base64');
    if (bytes.length === 0) return undefined;
    const json = toJson(StructSchema, fromBinary(StructSchema, bytes));
    return json && typeof json === 'object' && !Array.isArray(json) ? json : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Peers by header value, so a request from a peer already seen costs one map lookup. Bounded:
 * past `max` distinct values (headers are client input) new ones are decoded every time.
 */
export class PeerCache {
  readonly #byValue = new Map<string, PeerNode>();
  constructor(readonly max = 1024) {}
  get(value: string): PeerNode {
    let p = this.#byValue.get(value);
    if (p) return p;
    p = peerFromMetadata(decodePeerMetadata(value));
    if (this.#byValue.size < this.max) this.#byValue.set(value, p);
    return p;
  }
}

/** The namespace in a SPIFFE principal `spiffe://TD/ns/NS/sa/SA`, else undefined. */
export function namespaceOfPrincipal(principal: string): string | undefined {
  const m = /^spiffe:\/\/[^/]+\/ns\/([^/]+)\/sa\/[^/]+$/.exec(principal);
  return m?.[1];
}
