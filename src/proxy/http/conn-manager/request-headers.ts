import type { HeaderMap } from '../headers.js';
import type { RequestHeaders } from '../stream.js';
import type { HcmConfig } from './config.js';
import { portStart } from '../route/vhost-select.js';
import { newRequestId } from './request-id.js';

type HeaderConfig = Pick<HcmConfig, 'useRemoteAddress' | 'skipXffAppend' | 'via' | 'generateRequestId' | 'preserveExternalRequestId'>;

/**
 * The connection manager's own request header edits, as Envoy makes them
 * (https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/headers):
 * hop-by-hop headers go; with use_remote_address the proxy is the edge, so it appends the peer
 * to x-forwarded-for, sets x-forwarded-proto, regenerates x-request-id unless told to keep it
 * and drops x-envoy-* headers a client could forge. Returns the request id.
 */
export function prepareRequestHeaders(cfg: HeaderConfig, remoteAddress: string, req: RequestHeaders): string {
  const h = req.headers;
  stripHopByHop(h);
  if (cfg.useRemoteAddress) {
    if (!cfg.skipXffAppend) {
      const prev = h.get('x-forwarded-for');
      h.set('x-forwarded-for', prev ? `${prev},${remoteAddress}` : remoteAddress);
    }
    h.set('x-forwarded-proto', req.scheme);
  } else if (!h.has('x-forwarded-proto')) {
    h.set('x-forwarded-proto', req.scheme);
  }
  if (cfg.via) {
    const prev = h.get('via');
    h.set('via', prev ? `${prev},${cfg.via}` : cfg.via);
  }
  let rid = h.get('x-request-id');
  if (cfg.generateRequestId && (!rid || (cfg.useRemoteAddress && !cfg.preserveExternalRequestId))) {
    rid = newRequestId();
    h.set('x-request-id', rid);
  }
  if (cfg.useRemoteAddress) h.removePrefix('x-envoy-');
  return rid ?? '';
}

function isHopByHop(n: string): boolean {
  return n === 'connection' || n === 'keep-alive' || n === 'proxy-connection' || n === 'transfer-encoding' || n === 'upgrade';
}

/** Removes connection-specific headers (RFC 9110 §7.6.1), including those `Connection` names. */
export function stripHopByHop(h: HeaderMap): void {
  const l = h.list;
  let named: string | undefined;
  let any = false;
  for (let i = 0; i < l.length; i += 2) {
    const n = l[i]!;
    if (!isHopByHop(n)) continue;
    any = true;
    if (n === 'connection') named = named === undefined ? l[i + 1] : `${named},${l[i + 1]}`;
  }
  if (!any) return;
  // Options beyond close and keep-alive name further fields to drop ("Connection: keep-alive",
  // the usual one, names none and needs no split).
  let listed: string[] | undefined;
  if (named !== undefined && named !== 'keep-alive' && named !== 'close') {
    for (const n of named.split(',')) {
      const t = n.trim().toLowerCase();
      if (t && t !== 'close' && t !== 'keep-alive') (listed ??= []).push(t);
    }
  }
  h.removeWhere(listed ? (n) => isHopByHop(n) || listed.includes(n) : isHopByHop);
}

/**
 * Envoy's `HeaderUtility::stripPortFromHost`: the authority without its `:port` ("any"), or
 * only when the port is the one the connection arrived on ("matching"); an IPv6 literal keeps
 * its brackets. Lets a virtual host listed as `example.com` match `example.com:80`.
 */
export function stripHostPort(authority: string, mode: 'none' | 'matching' | 'any', localPort: number): string {
  if (mode === 'none') return authority;
  const p = portStart(authority);
  if (p < 0) return authority;
  const port = authority.slice(p + 1);
  if (!/^\d+$/.test(port)) return authority;
  if (mode === 'matching' && Number(port) !== localPort) return authority;
  return authority.slice(0, p);
}
