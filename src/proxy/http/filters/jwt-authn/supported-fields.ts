import type { DescMessage } from '@bufbuild/protobuf';
import {
  JwtAuthenticationSchema, JwtProviderSchema, RemoteJwksSchema, JwksAsyncFetchSchema, JwtHeaderSchema, JwtClaimToHeaderSchema,
  JwtRequirementSchema, ProviderWithAudiencesSchema, JwtRequirementOrListSchema, JwtRequirementAndListSchema, RequirementRuleSchema, PerRouteConfigSchema, JwtProvider_NormalizePayloadSchema, JwtCacheConfigSchema,
} from '../../../../envoy/generated/envoy/extensions/filters/http/jwt_authn/v3/config_pb.js';
import { HttpUriSchema } from '../../../../envoy/generated/envoy/config/core/v3/http_uri_pb.js';

/** The jwt_authn fields jwt-authn/ implements (RouteMatch and DataSource are the route's). */
export const JWT_AUTHN_SUPPORT: ReadonlyArray<readonly [DescMessage, string]> = [
  [JwtAuthenticationSchema, 'providers rules requirement_map bypass_cors_preflight strip_failure_response'],
  [JwtProviderSchema, 'issuer audiences remote_jwks local_jwks forward from_headers from_params from_cookies forward_payload_header pad_forward_payload_header payload_in_metadata header_in_metadata clock_skew_seconds claim_to_headers normalize_payload_in_metadata clear_route_cache jwt_cache_config'],
  [JwtProvider_NormalizePayloadSchema, 'space_delimited_claims'],
  [JwtCacheConfigSchema, 'jwt_cache_size'],
  [RemoteJwksSchema, 'http_uri cache_duration async_fetch'],
  [JwksAsyncFetchSchema, ''],
  [HttpUriSchema, 'uri cluster timeout'],
  [JwtHeaderSchema, 'name value_prefix'],
  [JwtClaimToHeaderSchema, 'header_name claim_name'],
  [JwtRequirementSchema, 'provider_name provider_and_audiences requires_any requires_all allow_missing_or_failed allow_missing'],
  [ProviderWithAudiencesSchema, 'provider_name audiences'],
  [JwtRequirementOrListSchema, 'requirements'],
  [JwtRequirementAndListSchema, 'requirements'],
  [RequirementRuleSchema, 'match requires requirement_name'],
  [PerRouteConfigSchema, 'disabled requirement_name'],
];
