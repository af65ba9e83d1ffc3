import type { HeaderMap } from './headers.js';
import type { RequestHeaders } from './stream.js';

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

/** HTTP statuses by gRPC status code, 0 (OK) to 16 (UNAUTHENTICATED): Envoy's Grpc::Utility::grpcToHttpStatus. */
const HTTP_FOR_GRPC = [200, 499, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400, 501, 500, 503, 500, 401] as const;

/** The HTTP status Envoy maps a gRPC status to; a code it does not know is 500. */
export function httpStatusForGrpc(grpcStatus: number): number {
  return HTTP_FOR_GRPC[grpcStatus] ?? 500;
}

/**
 * The grpc-status of a response head or trailers (Envoy's Grpc::Common::getGrpcStatus): undefined
 * when absent or empty; a value that is not a known code reads as -1 (Envoy's InvalidCode).
 */
export function grpcStatusOf(headers: HeaderMap): number | undefined {
  const v = headers.get('grpc-status');
  if (v === undefined || v === '') return undefined;
  const m = /^[\t\n\v\f\r ]*\+?([0-9]+)[\t\n\v\f\r ]*$/.exec(v);
  const n = m ? Number(m[1]) : -1;
  return n >= 0 && n < HTTP_FOR_GRPC.length ? n : -1;
}
