/**
 * An /etc/hosts for a workload of `namespace`: every service's VIP with its names, so that the
 * workload's own resolver finds mesh services without touching the machine's (the role of
 * Istio's DNS proxy). `NAME.NS.svc.cluster.local` services are also `NAME.NS.svc`, `NAME.NS`
 * and, in the workload's own namespace, `NAME`, as Kubernetes search domains would give them.
 * Pure; sorted by host.
 */
export function hostsFile(services: readonly { hostname: string; vips?: readonly string[] | undefined }[], namespace: string): string {
  const lines = ['# tsmesh: mesh services (service VIPs); rewritten while the workload runs'];
  for (const s of [...services].sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0))) {
    const vip = s.vips?.find((v) => !v.includes('/') && !v.includes(':'));
    if (!vip || s.hostname.includes('*')) continue;
    const names = [s.hostname];
    const m = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local$/.exec(s.hostname);
    if (m) {
      names.push(`${m[1]}.${m[2]}.svc`, `${m[1]}.${m[2]}`);
      if (m[2] === namespace) names.push(m[1]!);
    }
    lines.push(`${vip} ${names.join(' ')}`);
  }
  return `${lines.join('\n')}\n`;
}
