import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { parse } from 'yaml';
import { freePort, httpUpstream, request } from '../../support/net.js';
import { startProxy, httpBootstrap } from '../../support/proxy.js';

// bin/tsmesh.js re-executes the proxy with memory flags and hands a YAML bootstrap over as
// JSON (src/cli/bootstrap-handoff.ts); what runs must be what the file says, and nothing of
// the handover may stay behind.

const openFds = (pid: number): string[] => readdirSync(`/proc/${pid}/fd`).map((fd) => { try { return readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { return ''; } });

for (const format of ['YAML', 'JSON'] as const) {
  test(`a ${format} bootstrap: re-executed with the memory flags, served, and dumped as written`, async () => {
    const upstream = await httpUpstream();
    const port = await freePort();
    const yaml = httpBootstrap({ listenPort: port, upstreamPort: upstream.port });
    const proxy = await startProxy(format === 'YAML' ? yaml : JSON.stringify(parse(yaml)));
    try {
      const pid = proxy.child.pid!;
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      for (const flag of ['--max-semi-space-size=1', '--no-opt', '--no-sparkplug', '--no-allocation-site-pretenuring']) assert.ok(argv.includes(flag), argv.join(' '));
      assert.deepEqual(openFds(pid).filter((l) => l.includes('memfd:')), []);
      assert.equal((await request(port, { path: '/x' })).status, 200);
      const dump = JSON.parse((await proxy.admin('/config_dump')).body) as { configs: { '@type': string; bootstrap?: { staticResources: { clusters: { name: string }[] } } }[] };
      const boot = dump.configs.find((c) => c['@type'].endsWith('BootstrapConfigDump'));
      assert.equal(boot?.bootstrap?.staticResources.clusters[0]?.name, 'app');
    } finally {
      await proxy.stop();
      await upstream.close();
    }
  });
}
