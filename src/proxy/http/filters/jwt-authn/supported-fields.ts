import type { SupportEntry } from '../../../../envoy/support.js';

export const JWT_AUTHN_SUPPORT: ReadonlyArray<SupportEntry> = [
  ['envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication', 'providers rules requirement_map bypass_cors_preflight strip_failure_response'],
  ['envoy.extensions.filters.http.jwt_authn.v3.JwtProvider', 'issuer audiences remote_jwks local_jwks forward from_headers from_params from_cookies forward_payload_header pad_forward_payload_header payload_in_metadata header_in_metadata clock_skew_seconds claim_to_headers normalize_payload_in_metadata clear_route_cache jwt_cache_config'],
  ['envoy.extensions.filters.http.jwt_authn.v3.JwtProvider.NormalizePayload', 'space_delimited_claims'],
  ['envoy.extensions.filters.http.jwt_authn.v3.JwtCacheConfig', 'jwt_cache_size'],
  ['envoy.extensions.filters.http.jwt_authn.v3.RemoteJwks', 'http_uri cache_duration async_fetch'],
  ['envoy.extensions.filters.http.jwt_authn.v3.JwksAsyncFetch', ''],
  ['envoy.config.core.v3.HttpUri', 'uri cluster timeout'],
  ['envoy.extensions.filters.http.jwt_authn.v3.JwtHeader', 'name value_prefix'],
  ['envoy.extensions.filters.http.jwt_authn.v3.JwtClaimToHeader', 'header_name claim_name'],
  ['envoy.extensions.filters.http.jwt_authn.v3.JwtRequirement', 'provider_name provider_and_audiences requires_any requires_all allow_missing_or_failed allow_missing'],
  ['envoy.extensions.filters.http.jwt_authn.v3.ProviderWithAudiences', 'provider_name audiences'],
  ['envoy.extensions.filters.http.jwt_authn.v3.JwtRequirementOrList', 'requirements'],
  ['envoy.extensions.filters.http.jwt_authn.v3.JwtRequirementAndList', 'requirements'],
  ['envoy.extensions.filters.http.jwt_authn.v3.RequirementRule', 'match requires requirement_name'],
  ['envoy.extensions.filters.http.jwt_authn.v3.PerRouteConfig', 'disabled requirement_name'],
];
