/*
 * The agent's side of `istio.v1.auth.IstioCertificateService/CreateCertificate`, over TLS to the
 * control plane (verified against the mesh roots, by the control plane's service name), with a
 * join token or, for renewal, the current workload certificate (mutual TLS).
 */
import type { ChannelCredentials } from '@grpc/grpc-js';
import { CREATE_CERTIFICATE_PATH, decodeResponse, encodeRequest } from '../../pki/ca-proto.js';

type Grpc = typeof import('@grpc/grpc-js');
let grpcModule: Promise<Grpc> | undefined;
export const loadGrpc = (): Promise<Grpc> => (grpcModule ??= import('@grpc/grpc-js'));

/** The CA refused or could not be reached: `code` is the gRPC status. */
export class CaRequestError extends Error {
  constructor(readonly code: number, message: string) { super(message); }
}

export interface CaTarget {
  readonly host: string;
  readonly port: number;
  /** The name the control plane's certificate is checked against (istiod.tsmesh-system.svc). */
  readonly serverName: string;
}

/** Channel options that check the server's certificate by its service name, not the address dialled. */
export function channelOptions(serverName: string): Record<string, string | number> {
  return { 'grpc.ssl_target_name_override': serverName, 'grpc.default_authority': serverName };
}

export function credentialsFor(grpc: Grpc, rootsPem: string, identity?: { certificateChainPem: string; privateKeyPem: string }): ChannelCredentials {
  return identity
    ? grpc.credentials.createSsl(Buffer.from(rootsPem), Buffer.from(identity.privateKeyPem), Buffer.from(identity.certificateChainPem))
    : grpc.credentials.createSsl(Buffer.from(rootsPem));
}

/** Sends the CSR; resolves with the PEM chain (leaf first, root last). */
export async function createCertificate(target: CaTarget, credentials: ChannelCredentials, csrPem: string, ttlSeconds: number, token: string | undefined, timeoutMs = 15_000): Promise<string[]> {
  const grpc = await loadGrpc();
  const addr = `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
  const client = new grpc.Client(addr, credentials, channelOptions(target.serverName));
  const md = new grpc.Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  try {
    const res = await new Promise<Uint8Array>((resolve, reject) => {
      client.makeUnaryRequest(CREATE_CERTIFICATE_PATH, (b: Uint8Array) => Buffer.from(b), (b: Buffer) => new Uint8Array(b), encodeRequest({ csr: csrPem, validityDurationSeconds: ttlSeconds }), md, { deadline: Date.now() + timeoutMs },
        (err, value) => (err ? reject(new CaRequestError(err.code, err.details || err.message)) : resolve(value!)));
    });
    const chain = [...decodeResponse(res).certChain];
    if (chain.length === 0) throw new CaRequestError(grpc.status.INTERNAL, 'the CA answered with an empty certificate chain');
    return chain;
  } finally {
    client.close();
  }
}
