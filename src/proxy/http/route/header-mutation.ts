import { HeaderValueOption_HeaderAppendAction as AppendAction, type HeaderValueOption } from '../../../envoy/generated/envoy/config/core/v3/base_pb.js';
import { ConfigError } from '../../../envoy/registry.js';
import type { HeaderMap } from '../headers.js';
import { asciiLower } from './ascii.js';
import type { ClusterChoice } from './weighted-clusters.js';
import type { RouteSelection } from './route-table.js';

interface HeaderAddition {
  readonly name: string;
  readonly value: string;
  readonly action: AppendAction;
}

/**
 * One level's `*_headers_to_add` / `*_headers_to_remove` (route configuration, virtual host,
 * route or weighted cluster), compiled as Envoy's `HeaderParser`.
 */
export class HeaderMutation {
  readonly #removes: readonly string[];
  readonly #adds: readonly HeaderAddition[];
  readonly #conditional: boolean;

  constructor(removes: readonly string[], adds: readonly HeaderAddition[]) {
    this.#removes = removes;
    this.#adds = adds;
    this.#conditional = adds.some((a) => a.action === AppendAction.ADD_IF_ABSENT || a.action === AppendAction.OVERWRITE_IF_EXISTS);
  }

  /**
   * Envoy's `HeaderParser::evaluateHeaders`: removals first; then every addition is decided
   * against the headers as they are after the removals (so ADD_IF_ABSENT / OVERWRITE_IF_EXISTS
   * do not see this level's own additions); overwrites are applied before appends.
   */
  apply(h: HeaderMap): void {
    for (const name of this.#removes) h.remove(name);
    const adds = this.#adds;
    if (adds.length === 0) return;
    if (!this.#conditional) {
      for (const a of adds) if (a.action === AppendAction.OVERWRITE_IF_EXISTS_OR_ADD) h.set(a.name, a.value);
      for (const a of adds) if (a.action === AppendAction.APPEND_IF_EXISTS_OR_ADD) h.add(a.name, a.value);
      return;
    }
    const overwrite: HeaderAddition[] = [];
    const append: HeaderAddition[] = [];
    for (const a of adds) {
      switch (a.action) {
        case AppendAction.APPEND_IF_EXISTS_OR_ADD: append.push(a); break;
        case AppendAction.ADD_IF_ABSENT: if (!h.has(a.name)) append.push(a); break;
        case AppendAction.OVERWRITE_IF_EXISTS: if (h.has(a.name)) overwrite.push(a); break;
        case AppendAction.OVERWRITE_IF_EXISTS_OR_ADD: overwrite.push(a); break;
      }
    }
    for (const a of overwrite) h.set(a.name, a.value);
    for (const a of append) h.add(a.name, a.value);
  }
}

/**
 * Compiles one level's additions and removals; undefined when both are empty. `path` is the
 * message holding them, `side` is `request` or `response` (for the field names in errors;
 * `addFieldName` when the additions are not `<side>_headers_to_add`).
 */
export function compileHeaderMutation(
  adds: readonly HeaderValueOption[], removes: readonly string[], path: string, side: 'request' | 'response',
  addFieldName = `${side}_headers_to_add`,
): HeaderMutation | undefined {
  if (adds.length === 0 && removes.length === 0) return undefined;
  const addField = `${path}.${addFieldName}`;
  const removeField = `${path}.${side}_headers_to_remove`;
  const additions: HeaderAddition[] = [];
  adds.forEach((o, i) => {
    const p = `${addField}[${i}]`;
    const hv = o.header;
    if (!hv) throw new ConfigError(`${p}.header`, 'required');
    checkName(hv.key, `${p}.header.key`);
    if (!isModifiable(hv.key)) throw new ConfigError(`${p}.header.key`, `${JSON.stringify(hv.key)}: :-prefixed or host headers may not be modified`);
    if (/[\0\r\n]/.test(hv.value)) throw new ConfigError(`${p}.header.value`, 'must not contain NUL, CR or LF');
    if (Buffer.byteLength(hv.value) > 16384) throw new ConfigError(`${p}.header.value`, 'must be at most 16384 bytes');
    let action = o.appendAction;
    if (o.append !== undefined) {
      if (action !== AppendAction.APPEND_IF_EXISTS_OR_ADD) throw new ConfigError(`${p}.append`, "Both append and append_action are set and it's not allowed");
      action = o.append ? AppendAction.APPEND_IF_EXISTS_OR_ADD : AppendAction.OVERWRITE_IF_EXISTS_OR_ADD;
    }
    if (!(action in AppendAction)) throw new ConfigError(`${p}.append_action`, `unknown value ${action}`);
    const value = parseHeaderValueFormat(hv.value, `${p}.header.value`);
    // Envoy skips an empty value unless keep_empty_value.
    if (value === '' && !o.keepEmptyValue) return;
    additions.push({ name: asciiLower(hv.key), value, action });
  });
  const removals = removes.map((name, i) => {
    const p = `${removeField}[${i}]`;
    checkName(name, p);
    if (!isModifiable(name)) throw new ConfigError(p, `${JSON.stringify(name)}: :-prefixed or host headers may not be removed`);
    return asciiLower(name);
  });
  return new HeaderMutation(removals, additions);
}

function checkName(name: string, path: string): void {
  if (!name) throw new ConfigError(path, 'must not be empty');
  if (/[\0\r\n]/.test(name)) throw new ConfigError(path, 'must not contain NUL, CR or LF');
  if (Buffer.byteLength(name) > 16384) throw new ConfigError(path, 'must be at most 16384 bytes');
}

/** Envoy's `HeaderUtility::isModifiableHeader`: not a pseudo-header, not `host`. */
function isModifiable(name: string): boolean {
  return name[0] !== ':' && asciiLower(name) !== 'host';
}

const COMMAND = /^%([A-Z0-9_]+)(\([^)]*\))?(:[0-9]+)?%/;

/**
 * Header values are Envoy substitution-format strings: `%%` is a literal `%`, `%COMMAND%`
 * (also `%COMMAND(args)%` and `%COMMAND(args):N%`) is replaced per request. tsmesh supports
 * literal text only: any command is a config error naming it, and a `%` that starts no valid
 * command is a config error as in Envoy ("Couldn't find valid command at position N").
 */
export function parseHeaderValueFormat(format: string, path: string): string {
  if (!format.includes('%')) return format;
  let out = '';
  for (let pos = 0; pos < format.length; pos++) {
    const c = format[pos]!;
    if (c !== '%') { out += c; continue; }
    if (format[pos + 1] === '%') { out += '%'; pos++; continue; }
    const m = COMMAND.exec(format.slice(pos));
    if (!m) throw new ConfigError(path, `Incorrect configuration: ${format}. Couldn't find valid command at position ${pos}`);
    throw new ConfigError(path, `formatter %${m[1]}${m[2] ?? ''}% is not supported by tsmesh (only literal text and %% are); write a literal value`);
  }
  return out;
}

/**
 * Applies the request header mutations of a selected route in Envoy's order: the picked
 * weighted cluster's own first (when `cluster` is given), then route, virtual host and route
 * configuration (or the reverse when `most_specific_header_mutations_wins`), so that the level
 * evaluated last wins.
 */
export function applyRequestHeaderMutations(sel: RouteSelection, headers: HeaderMap, cluster?: ClusterChoice): void {
  cluster?.requestHeaderMutation?.apply(headers);
  for (const m of sel.route.requestHeaderMutations) m.apply(headers);
}

/** As applyRequestHeaderMutations, for the response (or a local reply) to that request. */
export function applyResponseHeaderMutations(sel: RouteSelection, headers: HeaderMap, cluster?: ClusterChoice): void {
  cluster?.responseHeaderMutation?.apply(headers);
  for (const m of sel.route.responseHeaderMutations) m.apply(headers);
}
