/**
 * Health-check payloads (HealthCheck.Payload): `text` is hex ("000000FF"), `binary` raw bytes.
 * Responses are matched as Envoy's PayloadMatcher does: every block must be found, in order,
 * not necessarily next to each other.
 */
import type { HealthCheck_Payload } from '../../../envoy/generated/envoy/config/core/v3/health_check_pb.js';
import { ConfigError } from '../../../envoy/registry.js';

export function decodePayload(p: HealthCheck_Payload, path: string): Buffer {
  const v = p.payload;
  if (v.case === 'binary') return Buffer.from(v.value);
  if (v.case === 'text') {
    if (v.value.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(v.value)) throw new ConfigError(`${path}.text`, `invalid hex string ${JSON.stringify(v.value)}`);
    return Buffer.from(v.value, 'hex');
  }
  throw new ConfigError(path, 'one of text, binary is required');
}

/** Whether `data` holds every block of `expected`, in order. Empty `expected` matches anything. */
export function payloadMatches(expected: readonly Buffer[], data: Buffer): boolean {
  let at = 0;
  for (const block of expected) {
    const i = data.indexOf(block, at);
    if (i < 0) return false;
    at = i + block.length;
  }
  return true;
}
