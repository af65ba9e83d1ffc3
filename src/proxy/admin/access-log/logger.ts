/**
 * `access_log` entries (envoy.config.accesslog.v3.AccessLog) of the HTTP connection manager and
 * tcp_proxy, compiled into loggers: a formatter and a sink. Selected by the type URL of
 * typed_config: envoy.access_loggers.file, .stdout, .stderr.
 */
import { typeUrlOf, unpackAs, ConfigError } from '../../../envoy/registry.js';
import type { AccessLog } from '../../../envoy/generated/envoy/config/accesslog/v3/accesslog_pb.js';
import { FileAccessLogSchema, type FileAccessLog } from '../../../envoy/generated/envoy/extensions/access_loggers/file/v3/file_pb.js';
import { StderrAccessLogSchema, StdoutAccessLogSchema } from '../../../envoy/generated/envoy/extensions/access_loggers/stream/v3/stream_pb.js';
import type { AccessLogContext } from './context.js';
import { DEFAULT_FORMAT, compileJsonFormat, compileSubstitutionFormat, compileTextFormat, type AccessLogFormatter } from './format.js';
import { accessLogSinks, type AccessLogSink, type AccessLogSinks } from './sink.js';
import { compileAccessLogFilter, type AccessLogPredicate } from './filter.js';

export interface AccessLogger {
  /**
   * Formats and queues one entry; cheap and never throws. `ctx` is valid only during the call
   * (the connection manager reuses one): keep no reference to it.
   */
  log(ctx: AccessLogContext): void;
}

class FormattingLogger implements AccessLogger {
  constructor(readonly format: AccessLogFormatter, readonly sink: AccessLogSink) {}
  log(ctx: AccessLogContext): void {
    const encode = this.format.encode;
    if (encode) this.sink.writeWith(encode, ctx);
    else this.sink.write(this.format(ctx));
  }
}

/** A logger behind its `filter`: writes only the requests the filter lets through. */
class FilteredLogger implements AccessLogger {
  constructor(readonly filter: AccessLogPredicate, readonly inner: AccessLogger) {}
  log(ctx: AccessLogContext): void {
    if (this.filter(ctx)) this.inner.log(ctx);
  }
}

/** Compiles one `access_log` entry at `path` (e.g. `...http_connection_manager.access_log[0]`). */
export function compileAccessLog(config: AccessLog, path: string, sinks: AccessLogSinks = accessLogSinks): AccessLogger {
  if (!config.filter) return compileUnfiltered(config, path, sinks);
  const filter = compileAccessLogFilter(config.filter, `${path}.filter`);
  return new FilteredLogger(filter, compileUnfiltered(config, path, sinks));
}

function compileUnfiltered(config: AccessLog, path: string, sinks: AccessLogSinks): AccessLogger {
  if (config.configType.case !== 'typedConfig') throw new ConfigError(`${path}.typed_config`, 'required');
  const any = config.configType.value;
  const p = `${path}.typed_config`;
  switch (any.typeUrl) {
    case typeUrlOf(FileAccessLogSchema): {
      const f = unpackAs(any, FileAccessLogSchema, p);
      if (!f.path) throw new ConfigError(`${p}.path`, 'required');
      return new FormattingLogger(fileFormat(f, p), sinks.file(f.path));
    }
    case typeUrlOf(StdoutAccessLogSchema): {
      const f = unpackAs(any, StdoutAccessLogSchema, p);
      return new FormattingLogger(compileSubstitutionFormat(f.accessLogFormat.value, `${p}.log_format`), sinks.stdout());
    }
    case typeUrlOf(StderrAccessLogSchema): {
      const f = unpackAs(any, StderrAccessLogSchema, p);
      return new FormattingLogger(compileSubstitutionFormat(f.accessLogFormat.value, `${p}.log_format`), sinks.stderr());
    }
    default:
      throw new ConfigError(p, `unsupported access logger ${any.typeUrl || '(no @type)'}; supported: ${[FileAccessLogSchema, StdoutAccessLogSchema, StderrAccessLogSchema].map(typeUrlOf).join(', ')}`);
  }
}

/** Every entry of a repeated `access_log` field. */
export function compileAccessLogs(configs: readonly AccessLog[], path: string, sinks: AccessLogSinks = accessLogSinks): AccessLogger[] {
  return configs.map((c, i) => compileAccessLog(c, `${path}[${i}]`, sinks));
}

/** FileAccessLog's format, including its deprecated fields: `format` (empty = default) and untyped `json_format`. */
function fileFormat(f: FileAccessLog, path: string): AccessLogFormatter {
  const fmt = f.accessLogFormat;
  switch (fmt.case) {
    case undefined: return compileTextFormat(DEFAULT_FORMAT, path);
    case 'format': return compileTextFormat(fmt.value || DEFAULT_FORMAT, `${path}.format`);
    case 'jsonFormat': return compileJsonFormat(fmt.value, `${path}.json_format`, { typed: false });
    case 'typedJsonFormat': return compileJsonFormat(fmt.value, `${path}.typed_json_format`, { typed: true });
    case 'logFormat': return compileSubstitutionFormat(fmt.value, `${path}.log_format`);
  }
}
