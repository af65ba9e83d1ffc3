import { prefixed, statSet, type StatScope } from '../stats-scope.js';

/** Envoy's `ssl.*` stats of a listener or cluster (source/common/tls/stats.h). */
export const sslStats = (scope: StatScope) =>
  statSet(prefixed(scope, 'ssl.'), ['handshake', 'connection_error', 'fail_verify_no_cert', 'fail_verify_error', 'fail_verify_san', 'no_certificate']);

export type SslStats = ReturnType<typeof sslStats>;

/** Stable codes of the failures tsmesh's own checks raise (Node's own carry OpenSSL's). */
export const ERR_SAN = 'TSMESH_TLS_SAN_MISMATCH';
export const ERR_NO_CERT = 'TSMESH_TLS_NO_PEER_CERT';
export const ERR_NO_SECRET = 'TSMESH_TLS_SECRET_MISSING';
export const ERR_BAD_CONTEXT = 'TSMESH_TLS_BAD_CONTEXT';

/** Counts a failed handshake under the stat Envoy would. */
export function countFailure(stats: SslStats, code: string | undefined): void {
  if (code === ERR_SAN) stats.fail_verify_san.inc();
  else if (code === ERR_NO_CERT) stats.fail_verify_no_cert.inc();
  else if (code && /^(CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT)/.test(code)) stats.fail_verify_error.inc();
  else stats.connection_error.inc();
}

export class TlsError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}
