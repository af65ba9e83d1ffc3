import type { UpstreamTlsPrincipals } from '../tls/upstream-transport.js';
import type { HeaderMap } from './headers.js';

export type HttpProtocol = 'HTTP/1.0' | 'HTTP/1.1' | 'HTTP/2';

/** A request as the router sees it, whatever codec it came in on. Pseudo-headers are fields. */
export interface RequestHeaders {
  method: string;
  /** Path with query, as received (origin-form). */
  path: string;
  authority: string;
  scheme: 'http' | 'https';
  /** Regular headers only: no pseudo-headers, no hop-by-hop headers. Names lower-case. */
  headers: HeaderMap;
  protocol: HttpProtocol;
}

/**
 * Where a response goes: the downstream side of one stream. The codec adapter implements it.
 * Calls come in order: headers, data*, then trailers or endStream; or reset at any time.
 */
export interface ResponseEncoder {
  /** `trailersExpected`: the upstream may send trailers (HTTP/2 needs to know up front). */
  encodeHeaders(status: number, headers: HeaderMap, endStream: boolean, trailersExpected?: boolean): void;
  encodeData(chunk: Buffer, endStream: boolean): void;
  encodeTrailers(trailers: HeaderMap): void;
  /** Abort the stream (HTTP/1: close the connection; HTTP/2: RST_STREAM). */
  reset(): void;
  /** Whether the downstream can take more data now; when false the stream is told on drain. */
  readonly writable: boolean;
  /** Stop (true) or resume (false) reading the request body: upstream backpressure. */
  readDisable(disable: boolean): void;
}

/** How an upstream stream reports back to the router. */
export interface UpstreamResponseHandler {
  onUpstreamHeaders(status: number, headers: HeaderMap, endStream: boolean): void;
  onUpstreamData(chunk: Buffer, endStream: boolean): void;
  onUpstreamTrailers(trailers: HeaderMap): void;
  /** The stream failed before or while the response arrived. */
  onUpstreamReset(reason: UpstreamResetReason, detail: string): void;
}

export type UpstreamResetReason =
  | 'connect_failure'       // UF
  | 'connection_termination' // UC: closed by the upstream mid-response
  | 'remote_reset'          // UR
  | 'protocol_error'        // UPE: garbage from upstream
  | 'overflow'              // UO
  | 'local_reset';

/** One request to one upstream host, on a pooled connection (HTTP/1.1) or stream (HTTP/2). */
export interface UpstreamStream {
  encodeHeaders(req: RequestHeaders, endStream: boolean): void;
  encodeData(chunk: Buffer, endStream: boolean): void;
  encodeTrailers(trailers: HeaderMap): void;
  /** Abandon the request; the connection is not reused. */
  reset(): void;
  /** Stop (true) or resume (false) reading the response: downstream backpressure. */
  readDisable(disable: boolean): void;
  /** Whether the upstream can take more request body now. */
  readonly writable: boolean;
  /** Called when the upstream can take more request body after `writable` was false. */
  onDrain: (() => void) | undefined;
  /** The URI SANs of the certificates of its TLS connection (undefined: plaintext). */
  readonly tlsPrincipals?: UpstreamTlsPrincipals | undefined;
}
