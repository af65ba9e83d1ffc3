import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { equals, fromJson, toJson, type JsonValue } from '@bufbuild/protobuf';
import { parse } from 'yaml';
import { BootstrapSchema } from '../../src/envoy/generated/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { HttpConnectionManagerSchema } from '../../src/envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { parseBootstrap } from '../../src/envoy/bootstrap.js';
import { envoyRegistry } from '../../src/envoy/full-registry.js';
import { ConfigError } from '../../src/envoy/registry.js';
import { registryFor, typeNamesInJson } from '../../src/envoy/type-registry.js';

const exampleYaml = readFileSync(new URL('../../../examples/bootstrap.yaml', import.meta.url), 'utf8');
const HCM = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

test('typeNamesInJson: every @type at any depth, without the URL prefix', () => {
  const json = {
    a: { '@type': 'type.googleapis.com/x.A', inner: [{ '@type': 'type.googleapis.com/x.B' }] },
    b: [[{ c: { '@type': 'example.com/types/x.C' } }]],
    d: { '@type': 'x.D' },
    e: '@type',
    f: { '@type': 7 },
  };
  assert.deepEqual([...typeNamesInJson(json)].sort(), ['x.A', 'x.B', 'x.C', 'x.D']);
});

test('registryFor: holds the named types and the well-known ones, not the rest', async () => {
  const r = await registryFor([HCM, 'no.such.Type']);
  assert.equal(r.getMessage(HCM)?.typeName, HCM);
  assert.equal(r.getMessage('google.protobuf.Duration')?.typeName, 'google.protobuf.Duration');
  assert.equal(r.getMessage('no.such.Type'), undefined);
  assert.equal(r.getMessage('envoy.extensions.filters.http.router.v3.Router'), undefined);
});

test('registryFor: a nested message type is found through its file', async () => {
  const r = await registryFor(['envoy.config.cluster.v3.Cluster.CommonLbConfig']);
  assert.equal(r.getMessage('envoy.config.cluster.v3.Cluster.CommonLbConfig')?.typeName, 'envoy.config.cluster.v3.Cluster.CommonLbConfig');
});

test('parseBootstrap: YAML and JSON give what the registry of every type gives', async () => {
  const json = parse(exampleYaml) as JsonValue;
  const want = fromJson(BootstrapSchema, json, { registry: envoyRegistry });
  const fromYaml = await parseBootstrap(exampleYaml);
  const fromJsonText = await parseBootstrap(JSON.stringify(json, null, 2));
  assert.ok(equals(BootstrapSchema, fromYaml.bootstrap, want));
  assert.ok(equals(BootstrapSchema, fromJsonText.bootstrap, want));
  assert.ok(fromYaml.typeNames.includes(HCM));
  // The registry it returns serves proto3 JSON of what it parsed, Any included.
  assert.deepEqual(toJson(BootstrapSchema, fromYaml.bootstrap, { registry: fromYaml.registry }), toJson(BootstrapSchema, want, { registry: envoyRegistry }));
  assert.equal(fromYaml.registry.getMessage(HCM), HttpConnectionManagerSchema);
});

async function refusal(text: string): Promise<ConfigError> {
  try {
    await parseBootstrap(text, 'b.json');
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  assert.fail('accepted');
}

test('parseBootstrap: JSON with a repeated key is refused as YAML refuses it', async () => {
  const e = await refusal('{"node": {"id": "a"}, "node": {"id": "b"}}');
  assert.equal(e.path, 'b.json');
  assert.match(e.reason, /invalid YAML: .*unique/);
});

test('parseBootstrap: unknown fields and unknown @type are refused, JSON or YAML', async () => {
  assert.match((await refusal('{"no_such_field": 1}')).reason, /no_such_field/);
  assert.match((await refusal('no_such_field: 1\n')).reason, /no_such_field/);
  const any = (t: string) => JSON.stringify({ static_resources: { listeners: [{ name: 'l', filter_chains: [{ filters: [{ name: 'f', typed_config: { '@type': t } }] }] }] } });
  assert.match((await refusal(any('type.googleapis.com/no.such.Type'))).reason, /no\.such\.Type/);
});

test('parseBootstrap: not a mapping, or not one document', async () => {
  assert.match((await refusal('[1, 2]')).reason, /expected a mapping at the top level/);
  assert.match((await refusal('a: 1\n---\nb: 2\n')).reason, /expected one YAML\/JSON document, got 2/);
});
