import type { JsonObject } from '@bufbuild/protobuf';
import type { ConnectionInfo } from '../http/conn-manager/connection-info.js';
import type { RouteRequest } from '../http/route/request.js';

/**
 * What RBAC policies read about a connection or request. The HTTP filter gives the request;
 * the network filter gives none (header and url_path rules then never match, as in Envoy).
 */
export interface RbacInput {
  readonly conn: ConnectionInfo;
  /** The downstream address as the connection manager trusts it (x-forwarded-for aware): remote_ip. */
  readonly remoteAddress: string;
  readonly request: RouteRequest | undefined;
  /** The stream's dynamic metadata of one namespace (`envoy.filters.http.jwt_authn`). */
  metadata(namespace: string): JsonObject | undefined;
}

/** A compiled permission or principal. */
export type RbacMatch = (input: RbacInput) => boolean;
