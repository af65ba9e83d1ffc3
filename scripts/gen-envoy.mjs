#!/usr/bin/env node
// Generates src/envoy/generated/ from the Envoy v3 .proto files bundled in @grpc/grpc-js-xds.
// The bundle's validate.proto predates the Envoy files (no `ignore_empty`), and a few imports
// (opencensus, opentelemetry) are missing, so we copy the tree, patch validate.proto, and ask buf
// for just the files tsmesh reads.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const deps = join(root, 'node_modules/@grpc/grpc-js-xds/deps');
const out = join(root, 'src/envoy/generated');

// Entry points; buf follows their imports.
const files = [
  'envoy/config/bootstrap/v3/bootstrap.proto',
  'envoy/service/discovery/v3/ads.proto',
  'envoy/service/discovery/v3/discovery.proto',
  'envoy/service/secret/v3/sds.proto',
  'envoy/service/health/v3/hds.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/filters/network/rbac/v3/rbac.proto',
  'envoy/extensions/filters/network/local_ratelimit/v3/local_rate_limit.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit.proto',
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/filters/http/jwt_authn/v3/config.proto',
  'envoy/extensions/filters/http/cors/v3/cors.proto',
  'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
  'envoy/extensions/filters/listener/original_dst/v3/original_dst.proto',
  'envoy/extensions/filters/listener/http_inspector/v3/http_inspector.proto',
  'envoy/extensions/access_loggers/file/v3/file.proto',
  'envoy/extensions/access_loggers/stream/v3/stream.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/transport_sockets/tls/v3/secret.proto',
  'envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer.proto',
  'envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.proto',
  'envoy/extensions/clusters/aggregate/v3/cluster.proto',
  'envoy/admin/v3/config_dump.proto',
  'envoy/admin/v3/config_dump_shared.proto',
  'envoy/admin/v3/clusters.proto',
];
// Entry points from the xds module (cncf/xds), by their path there.
const xdsFiles = [
  // xds.type.v3.TypedStruct: how Istio configures its stats filters (type_url stats.PluginConfig).
  'xds/type/v3/typed_struct.proto',
];

const work = mkdtempSync(join(tmpdir(), 'tsmesh-gen-'));
try {
  for (const d of ['envoy-api', 'googleapis', 'xds', 'protoc-gen-validate']) cpSync(join(deps, d), join(work, d), { recursive: true });
  const validate = join(work, 'protoc-gen-validate/validate/validate.proto');
  let v = readFileSync(validate, 'utf8');
  // Add the fields newer Envoy files set (ignore_empty) to every *Rules message that lacks them.
  v = v.replace(/message (\w+Rules) \{/g, (m, name) => `message ${name} {\n    optional bool ignore_empty = 26;`);
  writeFileSync(validate, v);
  writeFileSync(join(work, 'buf.yaml'), [
    'version: v2',
    'modules:',
    '  - path: envoy-api',
    '  - path: googleapis',
    '  - path: xds',
    '  - path: protoc-gen-validate',
    'lint:', '  use: [MINIMAL]',
    '',
  ].join('\n'));
  writeFileSync(join(work, 'buf.gen.yaml'), [
    'version: v2',
    'plugins:',
    `  - local: ${join(root, 'node_modules/.bin/protoc-gen-es')}`,
    `    out: ${out}`,
    '    opt: [target=ts, import_extension=js]',
    '',
  ].join('\n'));
  rmSync(out, { recursive: true, force: true });
  const buf = join(root, 'node_modules/.bin/buf');
  const args = ['generate', '--template', 'buf.gen.yaml', '--include-imports'];
  for (const f of files) args.push('--path', join('envoy-api', f));
  for (const f of xdsFiles) args.push('--path', join('xds', f));
  // google/protobuf well-known types come from @bufbuild/protobuf's wkt module.
  execFileSync(buf, args, { cwd: work, stdio: 'inherit' });
  if (!existsSync(out)) throw new Error('buf produced nothing');
  console.log(`generated into ${out}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

// An index of every generated file descriptor, so Any fields resolve by type URL.
import { readdirSync, statSync } from 'node:fs';
const found = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('_pb.ts')) found.push(p.slice(out.length + 1));
  }
})(out);

const { fromBinary, toBinary } = await import('@bufbuild/protobuf');
const { base64Decode, base64Encode } = await import('@bufbuild/protobuf/wire');
const { FileDescriptorProtoSchema } = await import('@bufbuild/protobuf/wkt');
const wkt = await import('@bufbuild/protobuf/wkt');
const FILE_DESC = /fileDesc\("([^"]+)"(?:, \[([^\]]*)\])?\)/;

// Custom options (validate.rules, udpa/xds/envoy annotations) ride in every descriptor as
// extension fields, and make every file import validate.proto and the annotation files. Nothing
// at run time reads them (strictness comes from src/proxy/supported.ts), yet each proxy would
// hydrate those files. Drop the extension options, and the imports that only they needed.
stripCustomOptions();

function stripCustomOptions() {
  const files = new Map(); // proto file name -> { rel, src, proto, symbol }
  for (const rel of found) {
    const src = readFileSync(join(out, rel), 'utf8');
    const m = /export const (file_\w+): GenFile = \/\*@__PURE__\*\/\s*/.exec(src);
    const d = FILE_DESC.exec(src);
    if (!m || !d) continue;
    const proto = fromBinary(FileDescriptorProtoSchema, base64Decode(d[1]));
    files.set(proto.name, { rel, src, proto, symbol: m[1] });
  }
  // Which file defines each type, by full name with a leading dot (as type_name spells it).
  const definedIn = new Map();
  const define = (fileName, pkg, messages, enums) => {
    const walk = (prefix, msgs, ens) => {
      for (const e of ens) definedIn.set(`${prefix}.${e.name}`, fileName);
      for (const msg of msgs) {
        definedIn.set(`${prefix}.${msg.name}`, fileName);
        walk(`${prefix}.${msg.name}`, msg.nestedType, msg.enumType);
      }
    };
    walk(pkg ? `.${pkg}` : '', messages, enums);
  };
  for (const f of files.values()) define(f.proto.name, f.proto.package, f.proto.messageType, f.proto.enumType);
  for (const v of Object.values(wkt)) {
    if (v && v.kind === 'file') define(v.proto.name, v.proto.package, v.proto.messageType, v.proto.enumType);
  }
  const wktSymbols = new Map(Object.entries(wkt).filter(([, v]) => v && v.kind === 'file').map(([k, v]) => [k, v.proto.name]));
  const symbolFile = new Map([...wktSymbols, ...[...files.values()].map((f) => [f.symbol, f.proto.name])]);

  for (const f of files.values()) {
    const refs = new Set();
    const clean = (o) => { if (o && o.$unknown) delete o.$unknown; };
    const walkMsg = (msg) => {
      clean(msg.options);
      for (const fl of msg.field) { clean(fl.options); if (fl.typeName) refs.add(fl.typeName); }
      for (const x of msg.extension) { clean(x.options); refs.add(x.extendee); if (x.typeName) refs.add(x.typeName); }
      for (const o of msg.oneofDecl) clean(o.options);
      for (const e of msg.enumType) { clean(e.options); for (const v of e.value) clean(v.options); }
      msg.nestedType.forEach(walkMsg);
    };
    clean(f.proto.options);
    f.proto.messageType.forEach(walkMsg);
    for (const e of f.proto.enumType) { clean(e.options); for (const v of e.value) clean(v.options); }
    for (const x of f.proto.extension) { clean(x.options); refs.add(x.extendee); if (x.typeName) refs.add(x.typeName); }
    for (const svc of f.proto.service) {
      clean(svc.options);
      for (const mth of svc.method) { clean(mth.options); refs.add(mth.inputType); refs.add(mth.outputType); }
    }
    const d = FILE_DESC.exec(f.src);
    const oldDeps = (d[2] ?? '').split(',').map((x) => x.trim()).filter(Boolean);
    const needed = new Set([...refs].map((r) => definedIn.get(r)).filter((n) => n !== undefined && n !== f.proto.name));
    const kept = oldDeps.filter((sym) => needed.has(symbolFile.get(sym)));
    for (const n of needed) {
      if (!kept.some((sym) => symbolFile.get(sym) === n)) throw new Error(`${f.proto.name}: needs ${n}, which it does not import`);
    }
    const b64 = base64Encode(toBinary(FileDescriptorProtoSchema, f.proto), 'std_raw');
    let src = f.src.replace(FILE_DESC, () => kept.length > 0 ? `fileDesc("${b64}", [${kept.join(', ')}])` : `fileDesc("${b64}")`);
    for (const sym of oldDeps.filter((x) => !kept.includes(x))) {
      if (src.split(sym).length > 2) continue; // still used besides its import: keep the import
      src = src.replace(new RegExp(`^import \\{([^}]*)\\} from ("[^"]+");\\n`, 'gm'), (line, names, from) => {
        const rest = names.split(',').map((x) => x.trim()).filter((x) => x && x !== sym);
        if (rest.length === names.split(',').filter((x) => x.trim()).length) return line;
        return rest.length > 0 ? `import { ${rest.join(', ')} } from ${from};\n` : '';
      });
    }
    writeFileSync(join(out, f.rel), src);
  }
}
const lines = ['// Generated by scripts/gen-envoy.mjs. Do not edit.', "import type { DescFile } from '@bufbuild/protobuf';"];
const names = [];
found.forEach((rel, i) => {
  const src = readFileSync(join(out, rel), 'utf8');
  const m = /export const (file_\w+): GenFile/.exec(src);
  if (!m) return;
  lines.push(`import { ${m[1]} as f${i} } from './${rel.replace(/\.ts$/, '.js')}';`);
  names.push(`f${i}`);
});
lines.push(`export const generatedFiles: readonly DescFile[] = [${names.join(', ')}];`, '');
writeFileSync(join(out, 'files.ts'), lines.join('\n'));

// A lazy index: message type name -> the generated file that holds it, imported only when a
// config names the type (an Any's @type), so a proxy hydrates the descriptors it uses, not all.
const index = [
  '// Generated by scripts/gen-envoy.mjs. Do not edit.',
  "import type { DescFile } from '@bufbuild/protobuf';",
  '',
  '/** One generated file: how to load it, its proto package, and the messages it holds (nested ones dotted). */',
  'export type GeneratedFileEntry = readonly [load: () => Promise<DescFile>, pkg: string, messages: string];',
  '',
  'export const generatedFileIndex: readonly GeneratedFileEntry[] = [',
];
for (const rel of found) {
  const src = readFileSync(join(out, rel), 'utf8');
  const m = /export const (file_\w+): GenFile = \/\*@__PURE__\*\/\s*fileDesc\("([^"]+)"/.exec(src);
  if (!m) continue;
  const proto = fromBinary(FileDescriptorProtoSchema, base64Decode(m[2]));
  const messages = [];
  const walk = (prefix, list) => {
    for (const d of list) {
      messages.push(prefix + d.name);
      walk(`${prefix}${d.name}.`, d.nestedType);
    }
  };
  walk('', proto.messageType);
  if (messages.length === 0) continue;
  index.push(`  [() => import('./${rel.replace(/\.ts$/, '.js')}').then((m) => m.${m[1]}), '${proto.package}', '${messages.join(' ')}'],`);
}
index.push('];', '');
writeFileSync(join(out, 'type-index.ts'), index.join('\n'));
