import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CAPTURE_DEFAULTS, CaptureOptionsError, captureRules, cleanupCommands, commandLines, parseCidrList, parsePortList, restoreText, type CaptureOptions } from '../../src/capture/rules.js';
import { repoRoot } from '../support/proxy.js';

/*
 * Golden files: test/capture/golden/<case>.rules holds the `iptables-restore` text of the case's
 * options. After an intended change regenerate with
 *   UPDATE_GOLDEN=1 node --test dist/test/capture/rules.test.js
 * and review the diff.
 */
const dir = join(repoRoot(), 'test/capture/golden');
const update = process.env['UPDATE_GOLDEN'] === '1';

const cases: Record<string, Partial<CaptureOptions>> = {
  defaults: {},
  'include-cidrs-exclude-ports': {
    includeOutboundCidrs: ['198.19.0.0/16', '10.96.0.0/12'],
    excludeOutboundCidrs: ['198.19.9.0/24'],
    excludeInboundPorts: [22],
    excludeOutboundPorts: [5432, 6379],
    includeOutboundPorts: [9080],
  },
  'explicit-inbound-ports': { includeInboundPorts: [9080, 9090], excludeInboundPorts: [9090], proxyUid: 1500, proxyGid: 1501, outboundPort: 16001, inboundPort: 16006 },
  'no-outbound': { includeOutboundCidrs: [] },
};

for (const [name, partial] of Object.entries(cases)) {
  test(`golden: ${name}`, () => {
    const file = join(dir, `${name}.rules`);
    const text = restoreText(captureRules({ ...CAPTURE_DEFAULTS, ...partial }));
    if (update) writeFileSync(file, text);
    assert.ok(existsSync(file), `${name}: no golden file; UPDATE_GOLDEN=1 creates it`);
    assert.equal(text, readFileSync(file, 'utf8'), `${name}: rules differ from ${name}.rules (UPDATE_GOLDEN=1 regenerates)`);
  });
}

test('the same options give the same rules; the proxy uid and gid are excluded before any redirect', () => {
  const a = captureRules(CAPTURE_DEFAULTS);
  assert.deepEqual(a, captureRules({ ...CAPTURE_DEFAULTS }));
  const out = a.filter((r) => r[1] === 'ISTIO_OUTPUT').map((r) => r.join(' '));
  const firstRedirect = out.findIndex((r) => r.endsWith('-j ISTIO_REDIRECT'));
  assert.ok(out.indexOf('-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN') < firstRedirect);
  assert.ok(out.indexOf('-A ISTIO_OUTPUT -m owner --gid-owner 1337 -j RETURN') < firstRedirect);
  assert.equal(out.at(-1), '-A ISTIO_OUTPUT -j ISTIO_REDIRECT');
});

test('the proxy ports are never captured inbound', () => {
  const inbound = captureRules(CAPTURE_DEFAULTS).filter((r) => r[1] === 'ISTIO_INBOUND').map((r) => r.join(' '));
  for (const p of [15000, 15008, 15020, 15021, 15090]) assert.ok(inbound.includes(`-A ISTIO_INBOUND -p tcp --dport ${p} -j RETURN`), String(p));
  assert.equal(inbound.at(-1), '-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT');
});

test('cleanup deletes the two jumps and the four chains, nothing else', () => {
  assert.deepEqual(commandLines(cleanupCommands()), [
    'iptables -t nat -D PREROUTING -p tcp -j ISTIO_INBOUND',
    'iptables -t nat -D OUTPUT -p tcp -j ISTIO_OUTPUT',
    'iptables -t nat -F ISTIO_INBOUND', 'iptables -t nat -F ISTIO_REDIRECT', 'iptables -t nat -F ISTIO_IN_REDIRECT', 'iptables -t nat -F ISTIO_OUTPUT',
    'iptables -t nat -X ISTIO_INBOUND', 'iptables -t nat -X ISTIO_REDIRECT', 'iptables -t nat -X ISTIO_IN_REDIRECT', 'iptables -t nat -X ISTIO_OUTPUT',
  ]);
});

test('bad options are refused with the option named', () => {
  const bad: [Partial<CaptureOptions>, RegExp][] = [
    [{ outboundPort: 0 }, /outbound port/],
    [{ excludeOutboundCidrs: ['10.0.0.0/33'] }, /exclude outbound CIDRs/],
    [{ includeOutboundCidrs: ['nope'] }, /include outbound CIDRs/],
    [{ excludeInboundPorts: [70000] }, /exclude inbound ports/],
    [{ proxyUid: -1 }, /proxy uid/],
  ];
  for (const [o, re] of bad) assert.throws(() => captureRules({ ...CAPTURE_DEFAULTS, ...o }), (e: unknown) => e instanceof CaptureOptionsError && re.test(e.message));
});

test('list flags: *, empty, values; bare addresses become /32', () => {
  assert.equal(parsePortList('include-inbound-ports', '*', true), '*');
  assert.deepEqual(parsePortList('exclude-inbound-ports', '', false), []);
  assert.deepEqual(parsePortList('exclude-inbound-ports', '22, 80', false), [22, 80]);
  assert.throws(() => parsePortList('exclude-inbound-ports', '*', false), /--exclude-inbound-ports/);
  assert.throws(() => parsePortList('exclude-inbound-ports', '22,x', false), /--exclude-inbound-ports.*"x"/);
  assert.deepEqual(parseCidrList('exclude-outbound-cidrs', '10.0.0.1,10.1.0.0/16', false), ['10.0.0.1/32', '10.1.0.0/16']);
  assert.throws(() => parseCidrList('exclude-outbound-cidrs', '::1/128', false), /IPv4/);
});
