import { fromBinary, toBinary } from '@bufbuild/protobuf';
import type { ServiceDefinition } from '@grpc/grpc-js';
import {
  DeltaDiscoveryRequestSchema, DeltaDiscoveryResponseSchema, DiscoveryRequestSchema, DiscoveryResponseSchema,
  type DeltaDiscoveryRequest, type DeltaDiscoveryResponse, type DiscoveryRequest, type DiscoveryResponse,
} from '../../envoy/generated/envoy/service/discovery/v3/discovery_pb.js';
import { decodeDiscoveryRequest } from './request-wire.js';
import { FramedMessage } from './framed.js';

export const ADS_SERVICE = 'envoy.service.discovery.v3.AggregatedDiscoveryService';
export const SOTW_PATH = `/${ADS_SERVICE}/StreamAggregatedResources`;
export const DELTA_PATH = `/${ADS_SERVICE}/DeltaAggregatedResources`;

/**
 * The server writes responses already serialized (see wire.ts), framed when it can (framed.ts:
 * grpc-js then sends them without calling responseSerialize); clients decode them as messages.
 */
export interface AdsServiceImplementation {
  StreamAggregatedResources: import('@grpc/grpc-js').handleBidiStreamingCall<DiscoveryRequest, DiscoveryResponse | Uint8Array | FramedMessage>;
  DeltaAggregatedResources: import('@grpc/grpc-js').handleBidiStreamingCall<DeltaDiscoveryRequest, DeltaDiscoveryResponse | Uint8Array | FramedMessage>;
}

/** The ADS methods; a FramedMessage never reaches responseSerialize (framed.ts writes it as its frame). */
export function adsServiceDefinition(): ServiceDefinition<AdsServiceImplementation> {
  const out = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return {
    StreamAggregatedResources: {
      path: SOTW_PATH, requestStream: true, responseStream: true, originalName: 'streamAggregatedResources',
      requestDeserialize: (b: Buffer) => decodeDiscoveryRequest(b),
      requestSerialize: (m: DiscoveryRequest) => Buffer.from(toBinary(DiscoveryRequestSchema, m)),
      responseDeserialize: (b: Buffer) => fromBinary(DiscoveryResponseSchema, b),
      responseSerialize: (m: DiscoveryResponse | Uint8Array) => out(m instanceof Uint8Array ? m : toBinary(DiscoveryResponseSchema, m)),
    },
    DeltaAggregatedResources: {
      path: DELTA_PATH, requestStream: true, responseStream: true, originalName: 'deltaAggregatedResources',
      requestDeserialize: (b: Buffer) => fromBinary(DeltaDiscoveryRequestSchema, b),
      requestSerialize: (m: DeltaDiscoveryRequest) => Buffer.from(toBinary(DeltaDiscoveryRequestSchema, m)),
      responseDeserialize: (b: Buffer) => fromBinary(DeltaDiscoveryResponseSchema, b),
      responseSerialize: (m: DeltaDiscoveryResponse | Uint8Array) => out(m instanceof Uint8Array ? m : toBinary(DeltaDiscoveryResponseSchema, m)),
    },
  };
}
