/*
 * Name and address syntax shared by the validators: Kubernetes object names and labels, DNS
 * host names with Istio's wildcards, IPs and CIDRs. Pure string checks.
 */
import net from 'node:net';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** RFC 1123 label as Kubernetes uses it: lowercase alphanumerics and '-', at most 63. */
export function isDns1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

/** RFC 1123 subdomain (Kubernetes object names): dot-separated labels, at most 253. */
export function isDns1123Subdomain(s: string): boolean {
  return s.length > 0 && s.length <= 253 && s.split('.').every(isDns1123Label);
}

/** A host name: DNS labels (letters, digits, '-'; case-insensitive), at most 255 characters. */
export function isDnsName(s: string): boolean {
  if (s.length === 0 || s.length > 255) return false;
  const t = s.endsWith('.') ? s.slice(0, -1) : s;
  return t.length > 0 && t.split('.').every((l) => l.length <= 63 && /^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?$/.test(l));
}

/** Istio's hosts: a DNS name, `*`, or `*.suffix` (a wildcard only as the whole leftmost label). */
export function isHostOrWildcard(s: string): boolean {
  if (s === '*') return true;
  if (s.startsWith('*.')) return isDnsName(s.slice(2));
  return isDnsName(s);
}

export function isIp(s: string): boolean {
  return net.isIP(s) !== 0;
}

export function isCidr(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash < 0) return false;
  const ip = s.slice(0, slash);
  const bits = s.slice(slash + 1);
  const v = net.isIP(ip);
  if (v === 0 || !/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (v === 4 ? 32 : 128);
}

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Why a Kubernetes label key is invalid, or undefined: `[prefix/]name`, prefix a DNS subdomain. */
export function labelKeyProblem(k: string): string | undefined {
  const slash = k.lastIndexOf('/');
  const name = slash >= 0 ? k.slice(slash + 1) : k;
  if (slash >= 0 && !isDns1123Subdomain(k.slice(0, slash))) return 'label key prefix must be a DNS subdomain';
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) return 'label key must be at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit';
  return undefined;
}

/** Why a label value is invalid, or undefined (empty is valid). */
export function labelValueProblem(v: string): string | undefined {
  if (v === '') return undefined;
  if (v.length > 63 || !LABEL_NAME.test(v)) return 'label value must be at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit';
  return undefined;
}

/** HTTP header names (RFC 9110 tokens, case-insensitive). */
export function isHeaderName(s: string): boolean {
  return /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/.test(s);
}
