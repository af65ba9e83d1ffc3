/**
 * Names of Istio's TCP metadata exchange, shared by the control plane that generates it and the
 * proxy that runs it (istio/istio, pilot/pkg/xds/filters; Envoy's TypedStruct form).
 */
import { TYPE_URL_PREFIX } from './registry.js';

export const METADATA_EXCHANGE_FILTER = 'istio.metadata_exchange';
export const METADATA_EXCHANGE_TYPE_URL = `${TYPE_URL_PREFIX}envoy.tcp.metadataexchange.config.MetadataExchange`;
/** The ALPN Istio's mesh clients offer for TCP; the exchange runs only when it was negotiated. */
export const PEER_EXCHANGE_ALPN = 'istio-peer-exchange';
