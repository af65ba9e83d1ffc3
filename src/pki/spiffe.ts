/** SPIFFE IDs as Istio uses them: `spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>`. Pure. */

export interface WorkloadIdentity {
  readonly trustDomain: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

export const DEFAULT_TRUST_DOMAIN = 'cluster.local';

/** The control plane's service name (as Istio's istiod.istio-system.svc): its certificate carries it, proxies check it. */
export const CONTROL_PLANE_SAN = 'istiod.tsmesh-system.svc';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const TRUST_DOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export function spiffeId(id: WorkloadIdentity): string {
  return `spiffe://${id.trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`;
}

/** The identity a SPIFFE ID names, or the reason it is not a workload's. */
export function parseSpiffeId(uri: string): WorkloadIdentity | string {
  const m = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(uri);
  if (!m) return `${JSON.stringify(uri)} is not spiffe://TRUST-DOMAIN/ns/NAMESPACE/sa/SERVICE-ACCOUNT`;
  return { trustDomain: m[1]!, namespace: m[2]!, serviceAccount: m[3]! };
}

/** Why `v` cannot be a namespace or service account name (a DNS label), or undefined. */
export function invalidName(what: string, v: string): string | undefined {
  return DNS_LABEL.test(v) ? undefined : `${what} ${JSON.stringify(v)} is not a DNS label (lower-case letters, digits and '-', at most 63)`;
}

export function invalidTrustDomain(v: string): string | undefined {
  return TRUST_DOMAIN.test(v) ? undefined : `trust domain ${JSON.stringify(v)} is not a DNS name`;
}
