import type { JsonObject } from '@bufbuild/protobuf';
import { encodePeerMetadata, exchangedMetadata, peerFromMetadata, type PeerNode } from './peer.js';

/** This proxy as its peers and its own metrics see it; built once per proxy instance. */
export interface LocalNode {
  readonly id: string;
  readonly peer: PeerNode;
  /** Its x-envoy-peer-metadata value (precomputed: it goes on every exchanged message). */
  readonly exchangeValue: string;
  /** The metadata it tells its peers (the TCP metadata exchange sends it as a Struct). */
  readonly exchanged: JsonObject;
}

export function localNodeOf(node: { readonly id: string; readonly metadata?: JsonObject | undefined } | undefined): LocalNode {
  return { id: node?.id ?? '', peer: peerFromMetadata(node?.metadata), exchangeValue: encodePeerMetadata(node?.metadata), exchanged: exchangedMetadata(node?.metadata) };
}
