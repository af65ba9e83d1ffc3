import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { req, table } from './fixtures.js';
import { portStart } from '../../../../src/proxy/http/route/vhost-select.js';

function vhosts(domains: Record<string, string[]>, extra = ''): string {
  return `${extra}
virtual_hosts:
${Object.entries(domains).map(([name, ds]) => `- name: ${name}
  domains: ${JSON.stringify(ds)}
  routes: [{ match: { prefix: / }, direct_response: { status: 200 } }]`).join('\n')}`;
}

const DOMAINS = {
  exact: ['example.com', 'Example.ORG', 'example.com:8080'],
  dot_suffix: ['*.foo.com'],
  dash_suffix: ['*-bar.foo.com'],
  dot_prefix: ['foo.*'],
  dash_prefix: ['foo-bar.*'],
  any: ['*'],
};

describe('virtual host selection (Envoy findVirtualHost)', () => {
  const t = table(vhosts(DOMAINS));
  const tPort = table(vhosts(DOMAINS, 'ignore_port_in_host_matching: true'));
  const cases: Array<[string, string, string, string?]> = [
    // [what, authority, expected vhost, expected with ignore_port_in_host_matching (default: same)]
    ['exact', 'example.com', 'exact'],
    ['exact is case-insensitive (both sides)', 'EXAMPLE.com', 'exact'],
    ['upper-case domain in config', 'example.org', 'exact'],
    ['port is not stripped by default', 'example.com:80', 'any', 'exact'],
    ['a domain with a port matches host:port', 'example.com:8080', 'exact'],
    ['suffix wildcard', 'a.foo.com', 'dot_suffix'],
    ['longest suffix wins', 'baz-bar.foo.com', 'dash_suffix'],
    ['wildcard never matches empty: -bar.foo.com falls to *.foo.com', '-bar.foo.com', 'dot_suffix'],
    ['*.foo.com does not match .foo.com', '.foo.com', 'any'],
    ['suffix with port does not match unless ignored', 'a.foo.com:8080', 'any', 'dot_suffix'],
    ['prefix wildcard', 'foo.bar', 'dot_prefix'],
    ['longest prefix wins', 'foo-bar.x', 'dash_prefix'],
    ['prefix wildcard never matches empty', 'foo.', 'any'],
    ['suffix beats prefix', 'foo.foo.com', 'dot_suffix'],
    ['prefix wildcard keeps the port', 'foo.bar:99', 'dot_prefix'],
    ['default', 'other.net', 'any'],
    ['empty authority goes to default', '', 'any'],
    ['IPv6 literal with port', '[::1]:80', 'any', 'any'],
  ];
  for (const [what, authority, want, wantIgnorePort] of cases) {
    it(what, () => {
      assert.equal(t.select(req(authority, '/'))?.virtualHost.name, want);
      assert.equal(tPort.select(req(authority, '/'))?.virtualHost.name, wantIgnorePort ?? want);
    });
  }

  it('no match and no * selects nothing', () => {
    const t2 = table(vhosts({ a: ['a.com'], b: ['*.b.com'] }));
    assert.equal(t2.select(req('c.com', '/')), undefined);
    assert.equal(t2.select(req('x.b.com', '/'))?.virtualHost.name, 'b');
  });

  it('a table with only * matches any authority', () => {
    const t2 = table(vhosts({ only: ['*'] }));
    assert.equal(t2.select(req('whatever:1', '/'))?.virtualHost.name, 'only');
  });

  it('ignore_port_in_host_matching strips the port from IPv6 hosts correctly', () => {
    const t2 = table(vhosts({ v6: ['[::1]'], any: ['*'] }, 'ignore_port_in_host_matching: true'));
    assert.equal(t2.select(req('[::1]:8080', '/'))?.virtualHost.name, 'v6');
    assert.equal(t2.select(req('[::1]', '/'))?.virtualHost.name, 'v6');
  });

  it('portStart follows HeaderUtility::getPortStart', () => {
    const cases: Array<[string, number]> = [['a.com', -1], ['a.com:80', 5], ['[::1]', -1], ['[::1]:80', 5], ['::1', 1], ['a:', 1]];
    for (const [host, want] of cases) assert.equal(portStart(host), want, host);
  });
});
