/**
 * What authorization costs per request, in process (bench/lib/filter-loop.ts: a new filter
 * instance per request, decodeHeaders, onDestroy, over real stats): envoy.filters.http.rbac with
 * 10 policies, envoy.filters.http.jwt_authn verifying an ES256 and an RS256 JWT (local JWKS,
 * every request verified, and with jwt_cache_config), and both together
 * with RBAC reading the JWT's claims. Prints the numbers and writes the `authz` section of
 * BENCHMARKS.md. It never fails on the numbers.
 *
 *   npm run bench:authz [-- --no-write]
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import type { JsonValue } from '@bufbuild/protobuf';
import { filterLoopNs } from './lib/filter-loop.js';
import { setSection } from './lib/sections.js';
import { jwksOf, signJwt, testKey } from '../test/support/jwt.js';

const RBAC = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';
const JWT = 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication';
const ISS = 'https://issuer.bench';

/** 10 policies in Istio's generated shape; only the last by name matches, so every one is evaluated. */
function rbacFilter(matchFirst: boolean): JsonValue {
  const policies: Record<string, JsonValue> = {};
  for (let i = 0; i < 9; i++) {
    policies[`ns[bench]-policy[p${i}]-rule[0]`] = {
      permissions: [{ andRules: { rules: [
        { orRules: { rules: [{ header: { name: ':method', stringMatch: { exact: 'POST' } } }, { header: { name: ':method', stringMatch: { exact: 'PUT' } } }] } },
        { orRules: { rules: [{ urlPath: { path: { prefix: `/api/v${i}/` } } }, { urlPath: { path: { exact: `/admin/${i}` } } }] } },
      ] } }],
      principals: [{ andIds: { ids: [
        { orIds: { ids: [{ authenticated: { principalName: { exact: `spiffe://cluster.local/ns/bench/sa/sa${i}` } } }] } },
        { orIds: { ids: [{ remoteIp: { addressPrefix: `10.${i}.0.0`, prefixLen: 16 } }] } },
      ] } }],
    };
  }
  policies[matchFirst ? 'a-allow-get' : 'z-allow-get'] = {
    permissions: [{ andRules: { rules: [{ orRules: { rules: [{ header: { name: ':method', stringMatch: { exact: 'GET' } } }] } }, { orRules: { rules: [{ urlPath: { path: { prefix: '/' } } }] } }] } }],
    principals: [{ andIds: { ids: [{ orIds: { ids: [{ remoteIp: { addressPrefix: '127.0.0.0', prefixLen: 8 } }] } }] } }],
  };
  return { name: 'envoy.filters.http.rbac', typedConfig: { '@type': RBAC, rules: { action: 'ALLOW', policies } } };
}

function jwtFilter(jwks: string, cache = false): JsonValue {
  return { name: 'envoy.filters.http.jwt_authn', typedConfig: {
    '@type': JWT,
    providers: { p: { issuer: ISS, audiences: ['bench'], localJwks: { inlineString: jwks }, forward: true, payloadInMetadata: ISS, ...(cache ? { jwtCacheConfig: {} } : {}) } },
    rules: [{ match: { prefix: '/' }, requires: { requiresAny: { requirements: [{ providerName: 'p' }, { allowMissing: {} }] } } }],
  } };
}

const claimsRbac: JsonValue = { name: 'envoy.filters.http.rbac', typedConfig: { '@type': RBAC, rules: { action: 'ALLOW', policies: {
  'requests-from-issuer': {
    permissions: [{ any: true }],
    principals: [{ andIds: { ids: [
      { metadata: { filter: 'envoy.filters.http.jwt_authn', path: [{ key: ISS }, { key: 'iss' }], value: { stringMatch: { exact: ISS } } } },
      { metadata: { filter: 'envoy.filters.http.jwt_authn', path: [{ key: ISS }, { key: 'groups' }], value: { listMatch: { oneOf: { stringMatch: { exact: 'readers' } } } } } },
    ] } }],
  },
} } } };

function main(): void {
  const write = !process.argv.includes('--no-write');
  const es = testKey('ES256', 'es');
  const rs = testKey('RS256', 'rs');
  const claims = { iss: ISS, aud: 'bench', sub: 'user-1', exp: Math.floor(Date.now() / 1000) + 86_400, groups: ['readers'] };
  const auth = (t: string) => ['authorization', `Bearer ${t}`];
  const JWT_N = 4_000;
  const N = 200_000;
  // Wall time (filterLoopNs' median) moves with whatever else runs on this shared machine; the
  // process's CPU time over all the requests it ran (warm-up included) hardly does.
  const measure = (name: string, filters: JsonValue[], n: number, headers: string[] = []): [string, number, number] => {
    const before = process.cpuUsage();
    const wall = filterLoopNs(filters, n, 5, headers);
    const used = process.cpuUsage(before);
    const cpu = ((used.user + used.system) * 1000) / (n / 4 + 5 * n);
    process.stderr.write(`${name}: ${wall.toFixed(0)} ns wall (median), ${cpu.toFixed(0)} ns CPU\n`);
    return [name, cpu, wall];
  };
  const rows = [
    measure('rbac, 10 policies, the matching one evaluated last', [rbacFilter(false)], N),
    measure('rbac, 10 policies, the matching one evaluated first', [rbacFilter(true)], N),
    measure('jwt_authn, ES256 (P-256) JWT', [jwtFilter(jwksOf(es))], JWT_N, auth(signJwt(es, claims))),
    measure('jwt_authn, RS256 (2048-bit) JWT', [jwtFilter(jwksOf(rs))], JWT_N, auth(signJwt(rs, claims))),
    measure('jwt_authn ES256 + rbac on its claims', [jwtFilter(jwksOf(es)), claimsRbac], JWT_N, auth(signJwt(es, claims))),
    measure('jwt_authn, ES256, jwt_cache_config (the same JWT again)', [jwtFilter(jwksOf(es), true)], N, auth(signJwt(es, claims))),
    measure('jwt_authn, no JWT (allow_missing)', [jwtFilter(jwksOf(es))], N),
  ];
  const fmt = (ns: number) => (ns >= 10_000 ? `${(ns / 1000).toFixed(1)} µs` : `${ns.toFixed(0)} ns`);
  const body = [
    '## Authorization filters (`npm run bench:authz`)',
    '',
    `Run ${new Date().toISOString()} by \`npm run bench:authz\` (bench/authz.ts), Node ${process.version}, ${cpus().length} CPUs (shared machine).`,
    'In process, bench/lib/filter-loop.ts: per request a new filter instance, decodeHeaders on a GET /',
    'from 127.0.0.1, onDestroy; 5 runs of 200,000 requests (4,000 for those verifying a JWT) after a',
    'warm-up of a quarter run. "CPU" is the process\'s CPU time over all of them; "wall" the median',
    'run\'s elapsed time per request, which includes waiting for the CPU on this shared machine.',
    'RBAC policies are in the shape istiod generates (and/or of method, path, SPIFFE principal and',
    'remote IP); JWTs are verified on every request unless the row says jwt_cache_config.',
    '',
    '| case | CPU per request | wall per request |',
    '| --- | --- | --- |',
    ...rows.map(([n, cpu, wall]) => `| ${n} | ${fmt(cpu)} | ${fmt(wall)} |`),
  ].join('\n');
  process.stdout.write(`${body}\n`);
  if (write) {
    let d = dirname(fileURLToPath(import.meta.url));
    while (!existsSync(join(d, 'package.json'))) d = dirname(d);
    const file = join(d, 'BENCHMARKS.md');
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
    writeFileSync(file, setSection(text, 'authz', body));
    process.stderr.write('bench: wrote the authz section of BENCHMARKS.md\n');
  }
}

main();
