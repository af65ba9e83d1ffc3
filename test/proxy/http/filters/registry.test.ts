import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { envoyRegistry } from '../../../../src/envoy/full-registry.js';
import { checkSupportEntries } from '../../../../src/envoy/support.js';
import { BUILT_IN_HTTP_FILTERS } from '../../../../src/proxy/http/filters/registry.js';
import { HTTP_FILTER_SUPPORT } from '../../../../src/proxy/http/filters/supported-fields.js';
import { RBAC_SUPPORT } from '../../../../src/proxy/rbac/supported-fields.js';
import { TRACING_SUPPORT } from '../../../../src/proxy/tracing/supported-fields.js';
import { ACCESS_LOGGER_SUPPORT, ACCESS_LOGGER_TYPES } from '../../../../src/proxy/access-log.js';
import { repoRoot, writeTemp } from '../../../support/proxy.js';

const PREFIX = 'type.googleapis.com/';

test('each built-in filter is loaded for exactly the types it registers', async () => {
  for (const [names, load] of BUILT_IN_HTTP_FILTERS) {
    const ext = await load();
    const registers = new Set([ext.typeUrl, ...(ext.parsePerRoute ? [ext.perRouteTypeUrl ?? ext.typeUrl] : [])].map((u) => u.slice(PREFIX.length)));
    assert.deepEqual(new Set(names), registers, ext.typeUrl);
  }
});

test('the support tables listing messages by name name messages and fields that exist', () => {
  assert.doesNotThrow(() => checkSupportEntries(HTTP_FILTER_SUPPORT, envoyRegistry));
  assert.doesNotThrow(() => checkSupportEntries(RBAC_SUPPORT, envoyRegistry));
  assert.doesNotThrow(() => checkSupportEntries(TRACING_SUPPORT, envoyRegistry));
  assert.doesNotThrow(() => checkSupportEntries(ACCESS_LOGGER_SUPPORT, envoyRegistry));
  assert.deepEqual(ACCESS_LOGGER_SUPPORT.map(([name]) => name), ACCESS_LOGGER_TYPES, 'every logger access-log.ts loads for has its fields listed');
  assert.throws(() => checkSupportEntries([['envoy.extensions.filters.http.fault.v3.HTTPFault', 'no_such_field']], envoyRegistry), /HTTPFault has no field no_such_field/);
  assert.throws(() => checkSupportEntries([['envoy.extensions.filters.http.fault.v3.NoSuchMessage', '']], envoyRegistry), /no message/);
});

// What a proxy process imports for a bootstrap, seen by a module loader hook in the child.
const HOOK = `
import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(
  "import { appendFileSync } from 'node:fs';" +
  "export async function load(url, context, next) { if (url.startsWith('file:')) appendFileSync(process.env.TSMESH_TEST_LOADED, url + '\\\\n'); return next(url, context); }"));
`;

function bootstrap(filters: string): string {
  return `
static_resources:
  listeners:
  - name: main
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: main
          route_config:
            virtual_hosts: [ { name: all, domains: ["*"], routes: [ { match: { prefix: "/" }, direct_response: { status: 200 } } ] } ]
          http_filters:
${filters}
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
`;
}

/**
 * Runs `tsmesh proxy --validate` on the bootstrap; its exit code, stderr and the dist/ files it
 * imported. From dist/src, not the bundle the proxy normally runs (src/cli/proxy-bundle.ts),
 * to see each module: the bundle is split at the same dynamic imports.
 */
function validate(yaml: string): { code: number | null; stderr: string; loaded: string[] } {
  const hook = writeTemp('hook.mjs', HOOK);
  const out = writeTemp('loaded.txt', '');
  const r = spawnSync(process.execPath, ['--import', hook, join(repoRoot(), 'bin/tsmesh.js'), 'proxy', '-c', writeTemp('bootstrap.yaml', yaml), '--validate'], {
    env: { ...process.env, TSMESH_TEST_LOADED: out, TSMESH_NO_BUNDLE: '1' }, encoding: 'utf8', timeout: 60_000,
  });
  const loaded = readFileSync(out, 'utf8').split('\n').filter((u) => u.includes('/dist/src/'));
  return { code: r.status, stderr: r.stderr, loaded };
}

// Their support tables (plain data, by type name) may be loaded: not their code or descriptors.
const FILTER_CODE = /\/proxy\/http\/filters\/(fault|local-ratelimit|cors|rbac|jwt-authn|istio-stats)\/(?!supported-fields\.js)|\/generated\/envoy\/extensions\/filters\/(http\/(fault|local_ratelimit|cors|rbac|jwt_authn)|common\/fault)\//;

// Tracing: everything but the HCM block's config and the loader.
const TRACING_CODE = /\/proxy\/tracing\/(?!config\.js|load\.js|sampling\.js|supported-fields\.js)|\/generated\/envoy\/config\/trace\/v3\/(opentelemetry|zipkin)_pb\.js/;

// RBAC (network filter, engine, descriptors with the CEL ones they import), but its support table.
const RBAC_CODE = /\/proxy\/tcp\/rbac\.js|\/proxy\/rbac\/(?!supported-fields\.js)|\/generated\/envoy\/(extensions\/filters\/network\/rbac|config\/rbac)\/|\/generated\/google\/api\/expr\//;

// Access loggers: formats, sinks, filters and the logger descriptors, but the response flags
// (read by the router and the stats) and the support table.
const ACCESS_LOG_CODE = /\/proxy\/admin\/access-log\/(?!supported-fields\.js|response-flags\.js)|\/generated\/envoy\/extensions\/access_loggers\//;

test('a bootstrap with only the router imports no other HTTP filter\'s code or descriptors, nor tracing\'s, RBAC\'s or the access loggers\'', () => {
  const r = validate(bootstrap(''));
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.loaded.some((u) => u.endsWith('/proxy/http/filters/registry.js')), 'the hook saw the proxy load');
  assert.deepEqual(r.loaded.filter((u) => FILTER_CODE.test(u) || TRACING_CODE.test(u) || RBAC_CODE.test(u) || ACCESS_LOG_CODE.test(u)), []);
});

test('access loggers load when a config names one; an unsupported one is still refused with its path', () => {
  const withLog = (typed: string): string => bootstrap('').replace('          http_filters:\n', `          access_log:\n          - name: log\n            typed_config: ${typed}\n          http_filters:\n`);
  const ok = validate(withLog('{ "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog, path: /dev/null, log_format: { text_format_source: { inline_string: "%RESPONSE_CODE%\\n" } } }'));
  assert.equal(ok.code, 0, ok.stderr);
  assert.ok(ok.loaded.some((u) => u.endsWith('/proxy/admin/access-log/logger.js')));

  const missingPath = validate(withLog('{ "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog }'));
  assert.notEqual(missingPath.code, 0);
  assert.match(missingPath.stderr, /access_log\[0\]\.typed_config\.path: required/);

  const unsupported = validate(withLog('{ "@type": type.googleapis.com/google.protobuf.Empty }'));
  assert.notEqual(unsupported.code, 0);
  assert.match(unsupported.stderr, /access_log\[0\]\.typed_config: unsupported access logger type\.googleapis\.com\/google\.protobuf\.Empty; supported: type\.googleapis\.com\/envoy\.extensions\.access_loggers\.file\.v3\.FileAccessLog/);
  assert.ok(!unsupported.loaded.some((u) => ACCESS_LOG_CODE.test(u)));
});

test('a filter a bootstrap names is loaded on first use, and its unsupported fields are still refused with their path', () => {
  const fault = `
          - name: envoy.filters.http.fault
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault
              abort: { http_status: 503, percentage: { numerator: 100 } }`;
  const ok = validate(bootstrap(fault));
  assert.equal(ok.code, 0, ok.stderr);
  assert.ok(ok.loaded.some((u) => u.includes('/proxy/http/filters/fault/')));
  assert.ok(!ok.loaded.some((u) => /\/proxy\/http\/filters\/jwt-authn\/(?!supported-fields\.js)/.test(u)));

  const bad = validate(bootstrap(`${fault}
              filter_metadata: { a: 1 }`));
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /http_filters\[0\]\.typed_config\.filter_metadata: field is not supported by tsmesh/);
});
