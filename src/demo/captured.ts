import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/*
 * The demo's workloads as a user runs them with capture: each one `tsmesh run` on a host of its
 * own (network namespace, iptables, its sidecar as uid 1337, a join token, so mutual TLS between
 * hosts); the apps call each other by plain service names with no proxy settings. Needs root.
 */

const BIN = join(fileURLToPath(new URL('../../../', import.meta.url)), 'bin', 'tsmesh.js');
const WORKLOADS = [['productpage', 'v1'], ['details', 'v1'], ['reviews', 'v1'], ['reviews', 'v2'], ['reviews', 'v3'], ['ratings', 'v1']] as const;

interface Registry { connected: { name: string; labels: Record<string, string>; ips: string[] }[] }

export interface Captured {
  /** productpage's address on its host, reached from this machine through the bridge. */
  readonly front: string;
  setFlaky(on: boolean): Promise<void>;
  /** Lines that show how the traffic went: mutual TLS between hosts, plaintext inside each. */
  proof(): Promise<string[]>;
  outputOf(): string;
}

export async function startCaptured(o: { api: string; xdsPort: number; xdsTlsPort: number; children: ChildProcess[]; out: (line: string) => void }): Promise<Captured> {
  const output: string[] = [];
  for (const [name, version] of WORKLOADS) {
    const child = spawn(process.execPath, [BIN, 'run', '--name', name, '--label', `version=${version}`, '--service-account', `bookinfo-${name}`, '--port', '9080',
      '--control', o.api, '--xds', `127.0.0.1:${o.xdsPort}`, '--xds-tls', `127.0.0.1:${o.xdsTlsPort}`, '--drain-time-s', '1',
      '--', process.execPath, BIN, 'demo-app', name, version, '9080'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer): void => { output.push(`[${name}-${version}] ${d.toString()}`); if (output.length > 400) output.shift(); };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    o.children.push(child);
  }
  o.out('  each workload: $ tsmesh run --name NAME --label version=V --service-account bookinfo-NAME --port 9080 -- node app (its own host, iptables capture, a join token)');
  const hosts = await waitHosts(o.api, () => output.join('').slice(-3000));
  for (const [name, version] of WORKLOADS) o.out(`  ${`${name}-${version}`.padEnd(14)} host ${hosts.get(`${name}/${version}`)}`);
  const addr = (name: string, version: string): string => hosts.get(`${name}/${version}`)!;
  return {
    front: `http://${addr('productpage', 'v1')}:9080`,
    setFlaky: async (on) => {
      const r = await request('POST', `http://${addr('ratings', 'v1')}:9080/demo/flaky?on=${on ? 1 : 0}`);
      if (r.status !== 200) throw new Error(`ratings did not take the flaky switch: HTTP ${r.status}`);
    },
    proof: async () => {
      // details: productpage calls it on every page. Its metrics first: the probe for the last
      // caller below comes from this machine, outside the mesh, in plaintext.
      const details = addr('details', 'v1');
      const stats = await request('GET', `http://${details}:15090/stats/prometheus`);
      const caller = await request('GET', `http://${details}:9080/demo/last-caller`);
      const mtls = sum(stats.body, /^istio_requests_total\{[^}]*reporter="destination"[^}]*connection_security_policy="mutual_tls"[^}]*\} (\d+)/gm);
      const plain = sum(stats.body, /^istio_requests_total\{[^}]*reporter="destination"[^}]*connection_security_policy="none"[^}]*\} (\d+)/gm);
      return [
        'How the traffic went:',
        `  details' app received x-forwarded-client-cert from its sidecar: ${caller.body || '(none yet)'}`,
        '    → the hop productpage → details between the two hosts was mutual TLS, and details\' sidecar verified the caller\'s SPIFFE certificate;',
        `  details' sidecar counted ${mtls} request(s) in with connection_security_policy="mutual_tls" and ${plain} in plaintext (istio_requests_total on :15090);`,
        '  inside each host the app talks plaintext to 127.0.0.1 and iptables sends it through its sidecar: no app has proxy settings or certificates.',
        '',
      ];
    },
    outputOf: () => output.join('').slice(-3000),
  };
}

/** Every demo workload's host address, once its sidecar is connected: `name/version` → IP. */
async function waitHosts(api: string, why: () => string): Promise<Map<string, string>> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      const r = await request('GET', `${api}/debug/registry`);
      const reg = JSON.parse(r.body) as Registry;
      const m = new Map<string, string>();
      for (const p of reg.connected) if (p.labels['app'] && p.ips[0]) m.set(`${p.labels['app']}/${p.labels['version'] ?? ''}`, p.ips[0]);
      if (WORKLOADS.every(([n, v]) => m.has(`${n}/${v}`))) return m;
    } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`the workloads did not all join the mesh:\n${why()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function sum(text: string, re: RegExp): number {
  let n = 0;
  for (const m of text.matchAll(re)) n += Number(m[1]);
  return n;
}

function request(method: string, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${url}: timeout`)));
    req.on('error', reject);
    req.end();
  });
}
