import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grpcStatusOf, httpStatusForGrpc } from '../../../src/proxy/http/grpc.js';
import { HeaderMap } from '../../../src/proxy/http/headers.js';

describe('gRPC status to HTTP status (Envoy Grpc::Utility::grpcToHttpStatus)', () => {
  const table: [string, number, number][] = [
    ['OK', 0, 200], ['CANCELLED', 1, 499], ['UNKNOWN', 2, 500], ['INVALID_ARGUMENT', 3, 400],
    ['DEADLINE_EXCEEDED', 4, 504], ['NOT_FOUND', 5, 404], ['ALREADY_EXISTS', 6, 409], ['PERMISSION_DENIED', 7, 403],
    ['RESOURCE_EXHAUSTED', 8, 429], ['FAILED_PRECONDITION', 9, 400], ['ABORTED', 10, 409], ['OUT_OF_RANGE', 11, 400],
    ['UNIMPLEMENTED', 12, 501], ['INTERNAL', 13, 500], ['UNAVAILABLE', 14, 503], ['DATA_LOSS', 15, 500],
    ['UNAUTHENTICATED', 16, 401], ['an unknown code', 17, 500], ['InvalidCode', -1, 500],
  ];
  for (const [name, code, http] of table) it(`${name} (${code}) → ${http}`, () => assert.equal(httpStatusForGrpc(code), http));
});

describe('grpc-status of a response head (Envoy Grpc::Common::getGrpcStatus)', () => {
  const table: [string, string[], number | undefined][] = [
    ['absent', [], undefined],
    ['empty', ['grpc-status', ''], undefined],
    ['a code', ['grpc-status', '14'], 14],
    ['spaces and a plus sign', ['grpc-status', ' +13 '], 13],
    ['beyond the known codes', ['grpc-status', '99'], -1],
    ['not a number', ['grpc-status', 'UNAVAILABLE'], -1],
  ];
  for (const [name, list, want] of table) it(name, () => assert.equal(grpcStatusOf(new HeaderMap(list)), want));
});
