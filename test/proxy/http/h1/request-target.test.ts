import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRequestTarget, type RequestTarget } from '../../../../src/proxy/http/h1/request-target.js';

test('request-target forms (RFC 9112 §3.2)', () => {
  const ok: [string, string, RequestTarget][] = [
    ['GET', '/p?q', { kind: 'origin', path: '/p?q' }],
    ['GET', 'http://reviews.default.svc.cluster.local:9080/p?q', { kind: 'absolute', authority: 'reviews.default.svc.cluster.local:9080', path: '/p?q' }],
    ['GET', 'HTTP://Reviews:9080/', { kind: 'absolute', authority: 'Reviews:9080', path: '/' }],
    ['GET', 'http://reviews', { kind: 'absolute', authority: 'reviews', path: '/' }],
    ['GET', 'http://reviews?x=1', { kind: 'absolute', authority: 'reviews', path: '/?x=1' }],
    ['POST', 'http://10.0.0.1:80/a/b', { kind: 'absolute', authority: '10.0.0.1:80', path: '/a/b' }],
    ['GET', 'http://[::1]:8080/x', { kind: 'absolute', authority: '[::1]:8080', path: '/x' }],
    ['GET', 'http://a%2Db/', { kind: 'absolute', authority: 'a%2Db', path: '/' }],
    ['OPTIONS', '*', { kind: 'asterisk' }],
  ];
  for (const [m, t, want] of ok) assert.deepEqual(parseRequestTarget(m, t), want, `${m} ${t}`);
  const refused: [string, string, number, RegExp][] = [
    ['GET', 'https://reviews:443/', 400, /https:\/\/ targets are not supported/],
    ['CONNECT', 'reviews:443', 405, /CONNECT is not supported/],
    ['GET', '*', 400, /only allowed with OPTIONS/],
    ['GET', 'ftp://x/', 400, /unsupported scheme "ftp"/],
    ['GET', 'reviews:9080/p', 400, /invalid request-target/],
    ['GET', 'p', 400, /invalid request-target/],
    ['GET', 'http:/x', 400, /invalid request-target/],
    ['GET', 'http:///p', 400, /the authority is empty/],
    ['GET', 'http://user:pw@reviews/', 400, /userinfo/],
    ['GET', 'http://reviews:99999/', 400, /bad port/],
    ['GET', 'http://reviews:x/', 400, /bad port/],
    ['GET', 'http://:80/', 400, /the host is empty/],
    ['GET', 'http://re"views/', 400, /bad host/],
    ['GET', 'http://[zz]/', 400, /bad host/],
    ['GET', 'http://reviews/p#frag', 400, /fragment/],
  ];
  for (const [m, t, status, reason] of refused) {
    const r = parseRequestTarget(m, t);
    assert.equal(r.kind, 'refused', `${m} ${t}`);
    if (r.kind !== 'refused') continue;
    assert.equal(r.status, status, `${m} ${t}`);
    assert.match(r.reason, reason, `${m} ${t}`);
  }
});
