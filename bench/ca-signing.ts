/*
 * CSR signings per second: the CA in process (parse and verify the CSR, build and sign the
 * certificate), and end to end over gRPC on the control plane's TLS port (join token checked,
 * CSR signed, chain returned) with 16 requests in flight. Also what a workload's agent spends
 * per certificate (P-256 key and CSR). Prints numbers, never passes or fails; writes the `ca`
 * section of BENCHMARKS.md unless --no-write.
 *
 *   npm run bench:ca            (tsc, then node dist/bench/ca-signing.js)
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { startControl } from '../src/control/main.js';
import { createLogger } from '../src/control/log.js';
import { buildCsr, toPem } from '../src/pki/x509.js';
import { createCertificate, credentialsFor } from '../src/proxy/agent/ca-client.js';
import { fetchPinnedRoot } from '../src/proxy/agent/pinned-root.js';
import { CONTROL_PLANE_NAME } from '../src/proxy/agent/workload-agent.js';
import { setSection } from './lib/sections.js';

const write = !process.argv.includes('--no-write');
const N_LOCAL = 2000;
const N_GRPC = 1000;
const IN_FLIGHT = 16;
const ROUNDS = 3;

function csr(uri: string): string {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return toPem('CERTIFICATE REQUEST', buildCsr(privateKey, new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })), {}, { uris: [uri] }));
}

const cpuUs = (since: NodeJS.CpuUsage): number => { const d = process.cpuUsage(since); return d.user + d.system; };
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsmesh-bench-ca-'));
  const control = await startControl({ dataDir: dir, xdsPort: 0, httpPort: 0, xdsTlsPort: 0, log: createLogger('error') });
  try {
    const ca = control.ca!;
    const uri = 'spiffe://cluster.local/ns/bench/sa/load';

    // The agent's side: a key and a CSR per certificate.
    let t0 = performance.now();
    const csrs = Array.from({ length: N_LOCAL }, () => csr(uri));
    const agentMs = (performance.now() - t0) / N_LOCAL;

    const local: number[] = [];
    const localCpu: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      t0 = performance.now();
      const c0 = process.cpuUsage();
      for (const c of csrs) ca.authority.signWorkload(c, { namespace: 'bench', serviceAccount: 'load' }, 0, new Date());
      local.push(N_LOCAL / ((performance.now() - t0) / 1000));
      localCpu.push(cpuUs(c0) / N_LOCAL);
    }

    const { token } = ca.createToken('bench', 'load', 3600);
    const root = await fetchPinnedRoot('127.0.0.1', control.xdsTlsPort!, ca.authority.rootHash(), CONTROL_PLANE_NAME);
    const creds = credentialsFor(grpc, root);
    const target = { host: '127.0.0.1', port: control.xdsTlsPort!, serverName: CONTROL_PLANE_NAME };
    const remote: number[] = [];
    const remoteCpu: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      let next = 0;
      t0 = performance.now();
      const c0 = process.cpuUsage();
      await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
        while (next < N_GRPC) {
          const c = csrs[next++ % csrs.length]!;
          await createCertificate(target, creds, c, 0, token);
        }
      }));
      remote.push(N_GRPC / ((performance.now() - t0) / 1000));
      remoteCpu.push(cpuUs(c0) / N_GRPC);
    }

    const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
    const body = `## CA: CSR signings per second (\`npm run bench:ca\`)

Run ${new Date().toISOString()} by \`npm run bench:ca\` (bench/ca-signing.ts), Node ${process.version}, ${cpus().length} CPUs; median of ${ROUNDS} rounds. ECDSA P-256 root, P-256 workload keys, 24 h certificates.

| path | signings/s (wall) | CPU µs / signing | signings per CPU-second | per round (signings/s) |
| --- | --- | --- | --- | --- |
| in process: parse + verify CSR, build + sign certificate (${fmt(N_LOCAL)} CSRs) | ${fmt(median(local))} | ${fmt(median(localCpu))} | ${fmt(1e6 / median(localCpu))} | ${local.map(fmt).join(', ')} |
| gRPC over TLS on loopback: join token + CSR → chain (${fmt(N_GRPC)} calls, ${IN_FLIGHT} in flight, a new TLS channel per call as the agent does; the client's CPU is counted too) | ${fmt(median(remote))} | ${fmt(median(remoteCpu))} | ${fmt(1e6 / median(remoteCpu))} | ${remote.map(fmt).join(', ')} |

Load average at the end: ${loadavg().map((x) => x.toFixed(1)).join(', ')} (the wall-clock rates are only as good as the host was quiet; the CPU columns are what a signing costs).

The agent's side, per certificate: ${agentMs.toFixed(2)} ms for the P-256 key and the CSR.
At 24 h certificates renewed at half life, one signing per workload per 12 h: the gRPC rate above is that many workloads' renewals per second.`;
    process.stdout.write(`${body}\n`);
    if (write) {
      const file = join(process.cwd(), 'BENCHMARKS.md');
      writeFileSync(file, setSection(readFileSync(file, 'utf8'), 'ca', body));
      process.stdout.write('bench: wrote the ca section of BENCHMARKS.md\n');
    }
  } finally {
    await control.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
