/**
 * Stable error codes of the HTTP/1.1 codec. Tests and stats key on these, so they never change
 * meaning; add new ones rather than reuse.
 */
export type H1ErrorCode =
  | 'H1_BAD_REQUEST_LINE' // not `METHOD SP target SP HTTP/x.y CRLF`
  | 'H1_BAD_METHOD' // method is not an RFC 9110 token
  | 'H1_BAD_TARGET' // empty request-target, or a control char / DEL in it
  | 'H1_BAD_VERSION' // HTTP/x.y other than 1.0 or 1.1 (505)
  | 'H1_BAD_STATUS_LINE' // not `HTTP/1.x SP 3DIGIT SP reason CRLF`
  | 'H1_HEADERS_TOO_LARGE' // head (or trailer section) over maxHeaderBytes (431)
  | 'H1_TOO_MANY_HEADERS' // more than maxHeaderCount field lines (431)
  | 'H1_BAD_HEADER_NAME' // empty, non-token chars, or whitespace before the colon
  | 'H1_BAD_HEADER_VALUE' // CTL (other than HTAB) or DEL in a field value
  | 'H1_OBS_FOLD' // a field line starting with SP/HTAB (RFC 9112 §5.2)
  | 'H1_BARE_CR' // CR not followed by LF
  | 'H1_BARE_LF' // LF not preceded by CR
  | 'H1_CL_AND_TE' // Content-Length and Transfer-Encoding together (RFC 9112 §6.3)
  | 'H1_BAD_CONTENT_LENGTH' // not 1*DIGIT, or too large
  | 'H1_MULTIPLE_CONTENT_LENGTH' // several Content-Length values that differ
  | 'H1_BAD_TRANSFER_ENCODING' // malformed, chunked twice / not last (request), or HTTP/1.0
  | 'H1_UNSUPPORTED_TRANSFER_ENCODING' // a coding we do not know (501)
  | 'H1_BAD_CHUNK' // chunk-size line or chunk framing malformed
  | 'H1_MISSING_HOST' // HTTP/1.1 request without Host (RFC 9112 §3.2)
  | 'H1_MULTIPLE_HOST' // more than one Host field
  | 'H1_CONNECT_BODY' // CONNECT request announcing a body
  | 'H1_EOF' // the peer closed the connection in the middle of a message
  | 'H1_INVALID_FIELD'; // serializer: a name/value/line that would break the framing

/**
 * A protocol fault found by the codec. `status` is the response a server sends for it (400, 431,
 * 501, 505); on the response side callers usually map any H1Error to 502.
 */
export class H1Error extends Error {
  override readonly name = 'H1Error';
  readonly code: H1ErrorCode;
  readonly status: number;

  constructor(code: H1ErrorCode, status: number, message: string) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

/** 400-class fault: the common case. */
export function badMessage(code: H1ErrorCode, message: string): H1Error {
  return new H1Error(code, 400, message);
}

/** Shows a byte in an error message without echoing control characters. */
export function showByte(c: number | undefined): string {
  if (c === undefined) return 'end of input';
  return c >= 0x21 && c <= 0x7e ? `'${String.fromCharCode(c)}'` : `0x${c.toString(16).padStart(2, '0')}`;
}
