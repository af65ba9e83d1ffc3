import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocateVips } from '../../src/control/registry/vips.js';
import { hostsFile } from '../../src/capture/hosts-file.js';
import { tsmesh } from '../support/control.js';

test('VIPs: one per host in 198.19.0.0/16, the same whatever else exists, never a declared one', () => {
  const a = allocateVips(['reviews.default.svc.cluster.local', 'ratings.default.svc.cluster.local'], []);
  const b = allocateVips(['zzz.other.svc.cluster.local', 'ratings.default.svc.cluster.local', 'reviews.default.svc.cluster.local'], ['10.0.0.1']);
  assert.equal(a.get('reviews.default.svc.cluster.local'), b.get('reviews.default.svc.cluster.local'));
  assert.equal(a.get('ratings.default.svc.cluster.local'), b.get('ratings.default.svc.cluster.local'));
  for (const v of b.values()) assert.match(v, /^198\.19\.\d{1,3}\.([1-9]\d?|1\d\d|2[0-4]\d|25[0-4])$/);
  assert.equal(new Set(b.values()).size, 3);
  // A declared address inside the range is never handed out: the host that hashed to it moves.
  const taken = a.get('reviews.default.svc.cluster.local')!;
  const c = allocateVips(['reviews.default.svc.cluster.local'], [taken]);
  assert.notEqual(c.get('reviews.default.svc.cluster.local'), taken);
  assert.match(c.get('reviews.default.svc.cluster.local')!, /^198\.19\./);
});

test('VIPs: 2,000 hosts get 2,000 distinct addresses', () => {
  const hosts = Array.from({ length: 2000 }, (_, i) => `svc-${i}.ns.svc.cluster.local`);
  assert.equal(new Set(allocateVips(hosts, []).values()).size, 2000);
});

test('hosts file: FQDN and Kubernetes-style short names, the bare name only in the own namespace', () => {
  const text = hostsFile([
    { hostname: 'reviews.default.svc.cluster.local', vips: ['198.19.1.1'] },
    { hostname: 'db.prod.svc.cluster.local', vips: ['198.19.1.2'] },
    { hostname: 'api.example.com', vips: ['198.19.1.3', '198.19.1.4'] },
    { hostname: '*.wild.example.com', vips: ['198.19.1.5'] },
    { hostname: 'novip.default.svc.cluster.local' },
  ], 'default');
  assert.equal(text, [
    '# tsmesh: mesh services (service VIPs); rewritten while the workload runs',
    '198.19.1.3 api.example.com',
    '198.19.1.2 db.prod.svc.cluster.local db.prod.svc db.prod',
    '198.19.1.1 reviews.default.svc.cluster.local reviews.default.svc reviews.default reviews',
    '',
  ].join('\n'));
});

test('tsmesh run: usage errors name the flag and exit 2', async () => {
  const cases: [string[], RegExp][] = [
    [['run', '--name', 'x', '--port', '9080'], /the command to run goes after --/],
    [['run', '--port', '9080', '--', 'true'], /--name NAME is required/],
    [['run', '--name', 'x', '--port', 'http', '--', 'true'], /--port: expected PORT or PORT\/PROTOCOL/],
    [['run', '--name', 'x', '--gateway', '10.0.0.1/24', '--', 'true'], /--gateway: expected ADDRESS\/PREFIX inside 198\.18\.0\.0\/16/],
    [['run', '--name', 'x', '--exclude-outbound-cidrs', 'nope', '--', 'true'], /--exclude-outbound-cidrs/],
    [['hosts', 'frobnicate'], /hosts: expected ls or rm/],
  ];
  for (const [args, re] of cases) {
    const r = await tsmesh(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
});
