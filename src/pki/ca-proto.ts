/*
 * Istio's certificate service, `istio.v1.auth.IstioCertificateService` (security/v1alpha1/ca.proto
 * in istio/api; the same names and field numbers are in ./ca.proto):
 *   rpc CreateCertificate(IstioCertificateRequest) returns (IstioCertificateResponse)
 *   IstioCertificateRequest  { string csr = 1; int64 validity_duration = 2; google.protobuf.Struct metadata = 3; }
 *   IstioCertificateResponse { repeated string cert_chain = 1; }
 * Two small messages, encoded by hand with the protobuf wire helpers (metadata is skipped: tsmesh
 * takes the identity from the caller's credentials, never from the request). Used by the CA
 * (server) and the proxy's agent (client). Pure.
 */
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

export const CA_SERVICE = 'istio.v1.auth.IstioCertificateService';
export const CREATE_CERTIFICATE_PATH = `/${CA_SERVICE}/CreateCertificate`;

export interface CertificateRequest {
  /** PEM-encoded PKCS#10 request. */
  readonly csr: string;
  /** Requested lifetime in seconds; 0 = the CA's default. */
  readonly validityDurationSeconds: number;
}

export interface CertificateResponse {
  /** PEM certificates: the leaf first, the root last. */
  readonly certChain: readonly string[];
}

export function encodeRequest(r: CertificateRequest): Uint8Array {
  const w = new BinaryWriter();
  if (r.csr !== '') w.tag(1, WireType.LengthDelimited).string(r.csr);
  if (r.validityDurationSeconds !== 0) w.tag(2, WireType.Varint).int64(r.validityDurationSeconds);
  return w.finish();
}

export function decodeRequest(b: Uint8Array): CertificateRequest {
  const r = new BinaryReader(b);
  let csr = '';
  let validity = 0;
  while (r.pos < r.len) {
    const [field, wt] = r.tag();
    if (field === 1 && wt === WireType.LengthDelimited) csr = r.string();
    else if (field === 2 && wt === WireType.Varint) validity = Number(r.int64());
    else r.skip(wt, field);
  }
  return { csr, validityDurationSeconds: validity };
}

export function encodeResponse(r: CertificateResponse): Uint8Array {
  const w = new BinaryWriter();
  for (const c of r.certChain) w.tag(1, WireType.LengthDelimited).string(c);
  return w.finish();
}

export function decodeResponse(b: Uint8Array): CertificateResponse {
  const r = new BinaryReader(b);
  const certChain: string[] = [];
  while (r.pos < r.len) {
    const [field, wt] = r.tag();
    if (field === 1 && wt === WireType.LengthDelimited) certChain.push(r.string());
    else r.skip(wt, field);
  }
  return { certChain };
}
