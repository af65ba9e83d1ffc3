import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { validateResource } from '../../../src/control/config/validate.js';
import { parseDocuments, parseResources } from '../../../src/control/config/parse.js';
import { analyze } from '../../../src/control/config/analyze.js';
import { repoRoot } from '../../support/proxy.js';

const REPLACEMENTS: unknown[] = [null, undefined, '', 'x', '*', 0, -1, 1.5, 1e300, true, [], [null], ['x'], {}, { a: 1 }];

/** Every path to a value inside `v` (objects and arrays), as key lists. */
function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (!v || typeof v !== 'object') return [];
  const out: (string | number)[][] = [];
  for (const [k, x] of Object.entries(v)) {
    const p = [...prefix, Array.isArray(v) ? Number(k) : k];
    out.push(p, ...paths(x, p));
  }
  return out;
}

function replaced(v: unknown, path: (string | number)[], value: unknown): unknown {
  const copy = structuredClone(v) as Record<string | number, unknown>;
  let o = copy;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  o[path[path.length - 1]!] = value;
  return copy;
}

test('no input crashes validation: every field of real resources replaced by every kind of wrong value', () => {
  const dir = join(repoRoot(), 'examples/bookinfo');
  const seeds = readdirSync(dir).flatMap((f) => parseDocuments(readFileSync(join(dir, f), 'utf8'), f).documents.map((d) => d.value));
  seeds.push(...parseDocuments(`
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: full }
spec:
  hosts: [a]
  http:
  - match: [{ uri: { prefix: /a }, headers: { x: { regex: "a.*" } }, queryParams: { q: { exact: "1" } } }]
    route: [{ destination: { host: a, subset: v1, port: { number: 80 } }, weight: 100, headers: { request: { set: { x: y } } } }]
    retries: { attempts: 1, retryOn: 5xx }
    fault: { delay: { fixedDelay: 1s, percentage: { value: 1 } }, abort: { httpStatus: 503 } }
    mirror: { host: b }
    mirrorPercentage: { value: 1 }
    corsPolicy: { allowOrigins: [{ exact: x }], allowMethods: [GET] }
    rewrite: { uriRegexRewrite: { match: a, rewrite: b } }
  tcp: [{ match: [{ port: 1 }], route: [{ destination: { host: a } }] }]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: se }
spec: { hosts: [a.example.com], ports: [{ number: 80, name: http }], resolution: STATIC, endpoints: [{ address: 10.0.0.1, ports: { http: 80 }, labels: { a: b } }] }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: dr }
spec:
  host: a
  trafficPolicy:
    loadBalancer: { consistentHash: { httpCookie: { name: c, ttl: 1s }, maglev: { tableSize: 65537 } } }
    connectionPool: { tcp: { maxConnections: 1 }, http: { maxRetries: 1 } }
    outlierDetection: { consecutive5xxErrors: 1 }
    portLevelSettings: [{ port: { number: 80 }, loadBalancer: { simple: RANDOM } }]
  subsets: [{ name: v1, labels: { a: b }, trafficPolicy: { loadBalancer: { simple: RANDOM } } }]
---
apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata: { name: wg }
spec: { metadata: { labels: { a: b } }, template: { ports: { http: 80 }, serviceAccount: sa } }
---
apiVersion: tsmesh.io/v1
kind: MeshConfig
metadata: { name: mesh }
spec: { outboundTrafficPolicy: { mode: ALLOW_ANY }, defaultConfig: { concurrency: 2 } }
`).documents.map((d) => d.value));
  let cases = 0;
  for (const seed of seeds) {
    assert.deepEqual(validateResource({ value: seed, origin: 'seed' }).issues, [], 'seeds are valid');
    for (const p of paths(seed)) {
      for (const value of REPLACEMENTS) {
        const mutated = replaced(seed, p, value);
        const r = validateResource({ value: mutated, origin: 'fuzz' });
        cases++;
        // Whatever validation lets through must be safe to analyze.
        if (r.resource) analyze([r.resource]);
        for (const i of r.issues) assert.ok(i.message.length > 0 && !i.message.includes('undefined'), `${p.join('.')} = ${JSON.stringify(value)}: ${i.path}: ${i.message}`);
      }
    }
  }
  assert.ok(cases > 2000, `${cases} cases`);
});

test('no text crashes the parser: truncations of a real file and random bytes', () => {
  const text = readFileSync(join(repoRoot(), 'examples/bookinfo/destination-rules.yaml'), 'utf8');
  for (let n = 0; n < text.length; n += 7) parseResources(text.slice(0, n), 'cut.yaml');
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 0; i < 300; i++) {
    const chars = Array.from({ length: 1 + Math.floor(rand() * 80) }, () => ' :-[]{}"\'\n\t#&*!|>%@`abc0x'[Math.floor(rand() * 27)]);
    parseResources(chars.join(''), 'random.yaml');
  }
  assert.deepEqual(parseResources('a: &a [*a, *a]\n', 'alias.yaml').resources, []);
});
