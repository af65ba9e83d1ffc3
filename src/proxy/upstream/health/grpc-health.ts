/**
 * The gRPC health checking protocol (grpc.health.v1, https://github.com/grpc/grpc/blob/master/doc/health-checking.md)
 * on the wire, by hand: the messages are one field each, so a protobuf library is not needed.
 *
 *   message HealthCheckRequest  { string service = 1; }
 *   message HealthCheckResponse { ServingStatus status = 1; }   // SERVING = 1
 *
 * Each message travels in a gRPC length-prefixed frame: a compressed flag byte, a 4-byte
 * big-endian length, the message.
 */

export const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';
export const SERVING = 1;

/** A framed HealthCheckRequest for `service` ('' = the server as a whole). */
export function encodeHealthCheckRequest(service: string): Buffer {
  const name = Buffer.from(service, 'utf8');
  const body = name.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a]), varint(name.length), name]);
  const frame = Buffer.alloc(5 + body.length);
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, 5);
  return frame;
}

/**
 * The serving status in a response body (one uncompressed frame), or undefined when the body
 * is not exactly one well-formed HealthCheckResponse. An absent field is UNKNOWN (0).
 */
export function decodeHealthCheckResponse(body: Buffer): number | undefined {
  if (body.length < 5 || body[0] !== 0) return undefined;
  const len = body.readUInt32BE(1);
  if (body.length !== 5 + len) return undefined;
  let status = 0;
  let i = 5;
  while (i < body.length) {
    const tag = readVarint(body, i);
    if (!tag) return undefined;
    i = tag.next;
    const field = Math.floor(tag.value / 8), wire = tag.value & 7;
    if (wire === 0) {
      const v = readVarint(body, i);
      if (!v) return undefined;
      i = v.next;
      if (field === 1) status = v.value;
    } else if (wire === 2) {
      const l = readVarint(body, i);
      if (!l || l.next + l.value > body.length) return undefined;
      i = l.next + l.value;
    } else if (wire === 1 || wire === 5) {
      i += wire === 1 ? 8 : 4;
      if (i > body.length) return undefined;
    } else {
      return undefined;
    }
  }
  return status;
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) { out.push((n & 0x7f) | 0x80); n >>>= 7; }
  out.push(n);
  return Buffer.from(out);
}

/** A varint of at most 32 significant bits (enough for tags, lengths and enum values here). */
function readVarint(b: Buffer, at: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let shift = 0, i = at; i < b.length && shift < 35; shift += 7, i++) {
    value += (b[i]! & 0x7f) * 2 ** shift;
    if ((b[i]! & 0x80) === 0) return { value, next: i + 1 };
  }
  return undefined;
}
