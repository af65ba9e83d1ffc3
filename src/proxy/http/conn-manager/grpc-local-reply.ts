import type { RequestHeaders } from '../stream.js';

/** A gRPC request: content-type application/grpc (with or without a +suffix). */
export function isGrpcRequest(req: RequestHeaders): boolean {
  const ct = req.headers.get('content-type');
  return ct !== undefined && ct.startsWith('application/grpc') && (ct.length === 16 || ct[16] === '+' || ct[16] === ';');
}

/**
 * The grpc-status Envoy gives a local reply to a gRPC request (Grpc::Utility::httpToGrpcStatus,
 * as in gRPC's own HTTP-to-gRPC status mapping).
 */
export function grpcStatusForHttp(status: number): number {
  switch (status) {
    case 400: return 13; // INTERNAL
    case 401: return 16; // UNAUTHENTICATED
    case 403: return 7; // PERMISSION_DENIED
    case 404: return 12; // UNIMPLEMENTED
    case 429: case 502: case 503: case 504: return 14; // UNAVAILABLE
    default: return 2; // UNKNOWN
  }
}
