import type { Permission, Principal } from '../../envoy/generated/envoy/config/rbac/v3/rbac_pb.js';
import type { CidrRange } from '../../envoy/generated/envoy/config/core/v3/address_pb.js';
import type { PathMatcher } from '../../envoy/generated/envoy/type/matcher/v3/path_pb.js';
import type { HeaderMatcher } from '../../envoy/generated/envoy/config/route/v3/route_components_pb.js';
import type { MetadataMatcher } from '../../envoy/generated/envoy/type/matcher/v3/metadata_pb.js';
import { ConfigError } from '../../envoy/registry.js';
import { Cidr } from '../listener/cidr.js';
import { HeaderMap } from '../http/headers.js';
import { compileHeaderMatcher } from '../http/route/header-matcher.js';
import { compileStringMatcher } from '../http/route/string-matcher.js';
import { pathEndOf, type RouteRequest } from '../http/route/request.js';
import { compileMetadataMatcher } from './metadata-matcher.js';
import { cidrMatcher } from './cidr-matcher.js';
import type { RbacInput, RbacMatch } from './input.js';

/** What header rules see on a connection without a request: no headers at all. */
const NO_REQUEST: RouteRequest = { authority: '', path: '', method: '', headers: new HeaderMap() };
const always: RbacMatch = () => true;

/** Compiles an `envoy.config.rbac.v3.Permission` (Envoy's Matcher::create for permissions). */
export function compilePermission(p: Permission, path: string): RbacMatch {
  const r = p.rule;
  switch (r.case) {
    case 'any': return anyRule(r.value, `${path}.any`);
    case 'andRules': return and(r.value.rules.map((x, i) => compilePermission(x, `${path}.and_rules.rules[${i}]`)), `${path}.and_rules.rules`);
    case 'orRules': return or(r.value.rules.map((x, i) => compilePermission(x, `${path}.or_rules.rules[${i}]`)), `${path}.or_rules.rules`);
    case 'notRule': { const m = compilePermission(r.value, `${path}.not_rule`); return (i) => !m(i); }
    case 'header': return header(r.value, `${path}.header`);
    case 'urlPath': return urlPath(r.value, `${path}.url_path`);
    case 'destinationIp': { const c = cidr(r.value, `${path}.destination_ip`); return (i) => c(i.conn.localAddress); }
    case 'destinationPort': {
      const port = r.value;
      if (port > 65535) throw new ConfigError(`${path}.destination_port`, `expected 0-65535, got ${port}`);
      return (i) => i.conn.localPort === port;
    }
    case 'destinationPortRange': {
      const { start, end } = r.value;
      if (start < 0 || end > 65536 || start > end) throw new ConfigError(`${path}.destination_port_range`, `expected 0 <= start <= end <= 65536, got [${start}, ${end})`);
      return (i) => i.conn.localPort >= start && i.conn.localPort < end;
    }
    case 'metadata': return metadata(r.value, `${path}.metadata`);
    case 'requestedServerName': {
      const m = compileStringMatcher(r.value, `${path}.requested_server_name`);
      return (i) => m(i.conn.serverName ?? '');
    }
    case 'matcher': throw new ConfigError(`${path}.matcher`, 'RBAC matcher extensions are not supported by tsmesh');
    case 'uriTemplate': throw new ConfigError(`${path}.uri_template`, 'uri_template is not supported by tsmesh');
    default: throw new ConfigError(path, 'a permission rule is required');
  }
}

/** Compiles an `envoy.config.rbac.v3.Principal`. */
export function compilePrincipal(p: Principal, path: string): RbacMatch {
  const id = p.identifier;
  switch (id.case) {
    case 'any': return anyRule(id.value, `${path}.any`);
    case 'andIds': return and(id.value.ids.map((x, i) => compilePrincipal(x, `${path}.and_ids.ids[${i}]`)), `${path}.and_ids.ids`);
    case 'orIds': return or(id.value.ids.map((x, i) => compilePrincipal(x, `${path}.or_ids.ids[${i}]`)), `${path}.or_ids.ids`);
    case 'notId': { const m = compilePrincipal(id.value, `${path}.not_id`); return (i) => !m(i); }
    case 'authenticated': {
      const pn = id.value.principalName;
      if (!pn) return (i) => i.conn.tls !== undefined;
      const m = compileStringMatcher(pn, `${path}.authenticated.principal_name`);
      // Envoy's AuthenticatedMatcher: any URI SAN, else any DNS SAN, else the subject.
      return (i) => {
        const t = i.conn.tls;
        if (!t) return false;
        if (t.peerUriSans.length > 0) { for (const s of t.peerUriSans) if (m(s)) return true; }
        if (t.peerDnsSans.length > 0) { for (const s of t.peerDnsSans) if (m(s)) return true; }
        return m(t.peerSubject);
      };
    }
    // source_ip (deprecated) and direct_remote_ip are the peer of the connection itself.
    case 'sourceIp': { const c = cidr(id.value, `${path}.source_ip`); return (i) => c(i.conn.remoteAddress); }
    case 'directRemoteIp': { const c = cidr(id.value, `${path}.direct_remote_ip`); return (i) => c(i.conn.remoteAddress); }
    case 'remoteIp': { const c = cidr(id.value, `${path}.remote_ip`); return (i) => c(i.remoteAddress); }
    case 'header': return header(id.value, `${path}.header`);
    case 'urlPath': return urlPath(id.value, `${path}.url_path`);
    case 'metadata': return metadata(id.value, `${path}.metadata`);
    case 'filterState': throw new ConfigError(`${path}.filter_state`, 'filter_state principals are not supported by tsmesh');
    default: throw new ConfigError(path, 'a principal identifier is required');
  }
}

function anyRule(v: boolean, path: string): RbacMatch {
  if (!v) throw new ConfigError(path, 'must be true');
  return always;
}

function and(ms: RbacMatch[], path: string): RbacMatch {
  if (ms.length === 0) throw new ConfigError(path, 'at least one entry is required');
  if (ms.length === 1) return ms[0]!;
  return (i) => { for (const m of ms) if (!m(i)) return false; return true; };
}

function or(ms: RbacMatch[], path: string): RbacMatch {
  if (ms.length === 0) throw new ConfigError(path, 'at least one entry is required');
  if (ms.length === 1) return ms[0]!;
  return (i) => { for (const m of ms) if (m(i)) return true; return false; };
}

function header(h: HeaderMatcher, path: string): RbacMatch {
  const m = compileHeaderMatcher(h, path);
  return (i) => m(i.request ?? NO_REQUEST);
}

function urlPath(p: PathMatcher, path: string): RbacMatch {
  if (p.rule.case !== 'path') throw new ConfigError(`${path}.path`, 'required');
  const m = compileStringMatcher(p.rule.value, `${path}.path`);
  // Envoy matches the path without query and fragment; a connection without a request has none.
  return (i) => {
    const r = i.request;
    if (!r) return false;
    const end = pathEndOf(r.path);
    return m(end === r.path.length ? r.path : r.path.slice(0, end));
  };
}

function metadata(mm: MetadataMatcher, path: string): RbacMatch {
  const m = compileMetadataMatcher(mm, path);
  const ns = m.filter;
  return (i) => m.matches(i.metadata(ns));
}

/**
 * A CidrRange as Envoy reads it: an unset prefix_len is 0 (the whole address family), not a
 * host route.
 */
function cidr(c: CidrRange, path: string): (ip: string) => boolean {
  return cidrMatcher(Cidr.parse(c.addressPrefix, c.prefixLen ?? 0, path));
}
