import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { parse } from 'yaml';
import { RouteConfigurationSchema } from '../../../../src/envoy/generated/envoy/config/route/v3/route_pb.js';
import { envoyRegistry } from '../../../../src/envoy/full-registry.js';
import { HeaderMap } from '../../../../src/proxy/http/headers.js';
import { compileRouteConfig } from '../../../../src/proxy/http/route/compile.js';
import { applyRequestHeaderMutations, applyResponseHeaderMutations } from '../../../../src/proxy/http/route/header-mutation.js';
import type { RouteTable } from '../../../../src/proxy/http/route/route-table.js';
import { repoRoot } from '../../../support/proxy.js';
import { req } from './fixtures.js';

/**
 * Golden files: golden/<name>.yaml holds `config` (a RouteConfiguration) and `requests`; the
 * outcome of each request is compared with golden/<name>.expected.json. Regenerate with
 * UPDATE_GOLDEN=1 and review the diff.
 */
const DIR = join(repoRoot(), 'test/proxy/http/route/golden');

interface GoldenRequest {
  authority: string;
  path: string;
  method?: string;
  headers?: Record<string, string | string[]>;
}

function outcome(t: RouteTable, g: GoldenRequest): JsonValue {
  const r = req(g.authority, g.path, { ...(g.method ? { method: g.method } : {}), headers: g.headers ?? {} });
  const sel = t.select(r);
  const name = `${g.method ?? 'GET'} ${g.authority}${g.path}`;
  if (!sel) return { request: name, result: '404 NR' };
  const a = sel.route.action;
  const out: Record<string, JsonValue> = { request: name, virtualHost: sel.virtualHost.name, route: sel.route.name, action: a.kind };
  if (a.kind === 'forward') {
    out.clusters = [0, 0.5, 0.95].map((x) => a.pickCluster(x));
    out.path = a.rewritePath(r) ?? null;
    out.hostRewrite = a.hostRewriteLiteral ?? (a.autoHostRewrite ? 'auto' : null);
    out.timeoutMs = a.timeoutMs;
    const h = r.headers.clone();
    applyRequestHeaderMutations(sel, h);
    out.upstreamRequestHeaders = h.list;
  } else if (a.kind === 'redirect') {
    out.status = a.status;
    out.location = a.location(r);
  } else {
    out.status = a.status;
    out.body = a.body?.toString('utf8') ?? null;
  }
  const resp = new HeaderMap(['x-internal-debug', '1', 'content-type', 'text/plain']);
  applyResponseHeaderMutations(sel, resp);
  out.responseHeaders = resp.list;
  return out;
}

describe('golden route tables', () => {
  for (const name of ['istio-sidecar-outbound']) {
    it(name, () => {
      const input = parse(readFileSync(join(DIR, `${name}.yaml`), 'utf8')) as { config: JsonValue; requests: GoldenRequest[] };
      // validate_clusters is decoded but not read by route/ (it is the cluster manager's).
      const t = compileRouteConfig(fromJson(RouteConfigurationSchema, input.config, { registry: envoyRegistry }), 'route_config');
      const got = input.requests.map((g) => outcome(t, g));
      const file = join(DIR, `${name}.expected.json`);
      if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) writeFileSync(file, `${JSON.stringify(got, null, 2)}\n`);
      assert.deepEqual(got, JSON.parse(readFileSync(file, 'utf8')));
    });
  }
});
