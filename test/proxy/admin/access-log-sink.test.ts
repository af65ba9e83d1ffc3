import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { create, type JsonObject } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { AccessLogSchema } from '../../../src/envoy/generated/envoy/config/accesslog/v3/accesslog_pb.js';
import { FileAccessLogSchema } from '../../../src/envoy/generated/envoy/extensions/access_loggers/file/v3/file_pb.js';
import { SubstitutionFormatStringSchema } from '../../../src/envoy/generated/envoy/config/core/v3/substitution_format_string_pb.js';
import { DataSourceSchema } from '../../../src/envoy/generated/envoy/config/core/v3/base_pb.js';
import { ConfigError } from '../../../src/envoy/registry.js';
import { AccessLogSinks } from '../../../src/proxy/admin/access-log/sink.js';
import { compileAccessLog, compileAccessLogs } from '../../../src/proxy/admin/access-log/logger.js';
import type { AccessLogContext } from '../../../src/proxy/admin/access-log/context.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsmesh-access-log-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const ctx: AccessLogContext = { startTimeMs: 0, responseFlags: 0, bytesReceived: 1, bytesSent: 2, durationMs: 3 };

test('file sink: writes are queued, batched, appended; flush writes everything', async () => {
  const file = path.join(dir, 'batched.log');
  fs.writeFileSync(file, 'existing\n');
  const sinks = new AccessLogSinks({ flushIntervalMs: 60_000 });
  const sink = sinks.file(file);
  assert.equal(sinks.file(file), sink); // one per path
  for (let i = 0; i < 1000; i++) sink.write(`line ${i}\n`);
  assert.equal(fs.readFileSync(file, 'utf8'), 'existing\n'); // nothing written synchronously
  await sinks.flush();
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  assert.equal(lines.length, 1002);
  assert.equal(lines[1], 'line 0');
  assert.equal(lines[1000], 'line 999');
  await sinks.close();
});

/** Polls until `file` holds `want` (the sink writes on the thread pool, on its own schedule). */
async function eventually(file: string, want: (text: string) => boolean): Promise<string> {
  let text = '';
  for (let i = 0; i < 200; i++) {
    try { text = fs.readFileSync(file, 'utf8'); } catch { /* not created yet */ }
    if (want(text)) return text;
    await new Promise((r) => setTimeout(r, 25));
  }
  return text;
}

test('file sink: a batch below the flush size is written after the flush interval', async () => {
  const sinks = new AccessLogSinks({ flushIntervalMs: 20 });
  const timed = path.join(dir, 'timed.log');
  sinks.file(timed).write('a\n');
  assert.equal(await eventually(timed, (t) => t === 'a\n'), 'a\n');
  await sinks.close();
});

test('file sink: a full batch is written at once; what follows it waits for the interval or a flush', async () => {
  // An interval no test waits for: only the batch size can trigger these writes.
  const sinks = new AccessLogSinks({ flushIntervalMs: 600_000, flushBytes: 100 });
  const big = path.join(dir, 'big.log');
  const sink = sinks.file(big);
  for (let i = 0; i < 10; i++) sink.write(`${String(i).repeat(11)}\n`); // 120 bytes
  const full = await eventually(big, (t) => t.length === 120);
  assert.equal(full.length, 120);
  sink.write('tail\n');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(fs.readFileSync(big, 'utf8').length, 120);
  await sinks.flush();
  assert.equal(fs.readFileSync(big, 'utf8'), `${full}tail\n`);
  await sinks.close();
});

test('file sink: a full batch is written without the next one\'s first lines, which wait for the interval or a flush', async () => {
  // Batches of 4096 bytes fill buffers of 8192 that close with less than 2048 free. 613 lines of
  // 12 bytes queued at once: the first buffer takes 513 of them (6156 bytes), the next the other 100.
  const sinks = new AccessLogSinks({ flushIntervalMs: 600_000, flushBytes: 4096 });
  const file = path.join(dir, 'whole-batches.log');
  const sink = sinks.file(file);
  for (let i = 0; i < 613; i++) sink.write(`${String(i).padStart(11, '0')}\n`);
  const first = await eventually(file, (t) => t.length >= 6156);
  assert.equal(first.length, 6156);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(fs.readFileSync(file, 'utf8').length, 6156, 'the 100 lines of the unfinished batch are not written on their own');
  await sinks.flush();
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  assert.equal(lines.length, 614);
  assert.deepEqual([lines[512], lines[513], lines[612]], ['00000000512', '00000000513', '00000000612']);
  await sinks.close();
});

test('file sink: a flush writes what was queued when it began; lines that arrive during its write wait for the next', async () => {
  const sinks = new AccessLogSinks({ flushIntervalMs: 600_000 });
  const file = path.join(dir, 'flush-snapshot.log');
  const sink = sinks.file(file);
  sink.write('before\n');
  const flushed = sink.flush();
  // The drain has begun (opening the file or writing on the thread pool) when this runs.
  await new Promise((r) => setImmediate(r));
  sink.write('during\n');
  await flushed;
  assert.equal(fs.readFileSync(file, 'utf8'), 'before\n', 'a flush under load must not go on writing, a few lines at a time, for as long as lines arrive');
  await sinks.close();
  assert.equal(fs.readFileSync(file, 'utf8'), 'before\nduring\n', 'close writes what is queued');
  sink.write('after close\n');
  assert.equal(sink.dropped, 1);
});

test('file sink: many lines queued while writes are in flight are written whole, in order, once', async () => {
  const sinks = new AccessLogSinks({ flushIntervalMs: 600_000, flushBytes: 4096 });
  const file = path.join(dir, 'many.log');
  const sink = sinks.file(file);
  const n = 20_000;
  for (let i = 0; i < n; i++) {
    sink.write(`line ${i} ${'y'.repeat(i % 200)}\n`);
    if (i % 500 === 499) await new Promise((r) => setImmediate(r));
  }
  await sinks.flush();
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  assert.equal(lines.length, n + 1);
  for (let i = 0; i < n; i += 997) assert.equal(lines[i], `line ${i} ${'y'.repeat(i % 200)}`);
  assert.equal(sink.dropped, 0);
  await sinks.close();
});

test('file sink: a line longer than a batch buffer is written whole', async () => {
  const sinks = new AccessLogSinks({ flushIntervalMs: 600_000, flushBytes: 1024 });
  const file = path.join(dir, 'long.log');
  const sink = sinks.file(file);
  const long = `${'é'.repeat(5000)}\n`;
  sink.write('short\n');
  sink.write(long);
  sink.write('after\n');
  await sinks.flush();
  assert.equal(fs.readFileSync(file, 'utf8'), `short\n${long}after\n`);
  await sinks.close();
});

test('file sink: over the buffer limit or unwritable, lines are dropped, never thrown', async () => {
  const sinks = new AccessLogSinks({ flushIntervalMs: 60_000, maxBufferedBytes: 10 });
  const s = sinks.file(path.join(dir, 'full.log'));
  s.write('12345\n');
  s.write('67890\n');
  assert.equal(s.dropped, 1);
  const bad = sinks.file(path.join(dir, 'no-such-dir', 'x.log'));
  bad.write('lost\n');
  await sinks.flush();
  assert.equal(bad.dropped, 1);
  await sinks.close();
});

function fileLog(logPath: string, format?: { json?: JsonObject; text?: string }): ReturnType<typeof create<typeof AccessLogSchema>> {
  const logFormat = format?.json
    ? create(SubstitutionFormatStringSchema, { format: { case: 'jsonFormat', value: format.json } })
    : format?.text !== undefined
      ? create(SubstitutionFormatStringSchema, { format: { case: 'textFormatSource', value: create(DataSourceSchema, { specifier: { case: 'inlineString', value: format.text } }) } })
      : undefined;
  const f = create(FileAccessLogSchema, { path: logPath, accessLogFormat: logFormat ? { case: 'logFormat', value: logFormat } : { case: undefined } });
  return create(AccessLogSchema, { name: 'envoy.access_loggers.file', configType: { case: 'typedConfig', value: anyPack(FileAccessLogSchema, f) } });
}

test('FileAccessLog config -> logger writing the formatted line to the file', async () => {
  const sinks = new AccessLogSinks();
  const file = path.join(dir, 'access.log');
  const [json, text, dflt] = compileAccessLogs([
    fileLog(file, { json: { d: '%DURATION%', sent: '%BYTES_SENT%' } }),
    fileLog(file, { text: '%BYTES_RECEIVED% %RESPONSE_FLAGS%\n' }),
    fileLog(file),
  ], 'hcm.access_log', sinks);
  json!.log(ctx);
  text!.log(ctx);
  dflt!.log(ctx);
  await sinks.close();
  assert.equal(fs.readFileSync(file, 'utf8'), '{"d":3,"sent":2}\n1 -\n[1970-01-01T00:00:00.000Z] "- - -" 0 - 1 2 3 - "-" "-" "-" "-" "-"\n');
});

test('logger config errors name the field', () => {
  const sinks = new AccessLogSinks();
  assert.throws(() => compileAccessLog(fileLog(path.join(dir, 'x.log'), { text: '%WHAT%' }), 'hcm.access_log[2]', sinks),
    (e: unknown) => e instanceof ConfigError && e.path === 'hcm.access_log[2].typed_config.log_format.text_format_source.inline_string' && /WHAT/.test(e.reason));
  assert.throws(() => compileAccessLog(fileLog(''), 'a', sinks), (e: unknown) => e instanceof ConfigError && e.path === 'a.typed_config.path');
  const wrongType = create(AccessLogSchema, { configType: { case: 'typedConfig', value: anyPack(DataSourceSchema, create(DataSourceSchema)) } });
  assert.throws(() => compileAccessLog(wrongType, 'a', sinks), /unsupported access logger type.googleapis.com\/envoy.config.core.v3.DataSource/);
});
