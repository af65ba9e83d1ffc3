import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { downstreamRemoteAddress, lastAddressFromXff } from '../../../../src/proxy/http/conn-manager/remote-address.js';
import { HeaderMap } from '../../../../src/proxy/http/headers.js';

describe('lastAddressFromXff (Envoy Utility::getLastAddressFromXFF)', () => {
  const table: [string | undefined, number, string | undefined][] = [
    [undefined, 0, undefined],
    ['1.2.3.4', 0, '1.2.3.4'],
    ['1.2.3.4, 5.6.7.8', 0, '5.6.7.8'],
    ['1.2.3.4, 5.6.7.8', 1, '1.2.3.4'],
    ['1.2.3.4, 5.6.7.8', 2, undefined],
    ['1.2.3.4,  2001:db8::1 ', 0, '2001:db8::1'],
    ['1.2.3.4, not-an-ip', 0, undefined],
    ['1.2.3.4:80', 0, undefined],
    ['', 0, undefined],
  ];
  for (const [xff, skip, want] of table) it(`${JSON.stringify(xff)} skipping ${skip} → ${want}`, () => assert.equal(lastAddressFromXff(xff, skip), want));
});

describe('downstreamRemoteAddress (Envoy ConnectionManagerUtility::mutateRequestHeaders)', () => {
  const peer = { address: '10.0.0.9', port: 40000 };
  const h = (...xff: string[]) => new HeaderMap(xff.flatMap((v) => ['x-forwarded-for', v]));
  const table: [string, boolean, number, HeaderMap, string, number][] = [
    ['use_remote_address, no trusted hops: the peer, whatever XFF says', true, 0, h('1.1.1.1'), '10.0.0.9', 40000],
    ['use_remote_address, 1 trusted hop: the last XFF entry', true, 1, h('1.1.1.1, 2.2.2.2'), '2.2.2.2', 0],
    ['use_remote_address, 2 trusted hops: one before the last', true, 2, h('1.1.1.1, 2.2.2.2'), '1.1.1.1', 0],
    ['use_remote_address, trusted hops but no XFF: the peer', true, 1, h(), '10.0.0.9', 40000],
    ['use_remote_address, XFF too short for the hops: the peer', true, 3, h('1.1.1.1'), '10.0.0.9', 40000],
    ['not the edge: the last XFF entry', false, 0, h('1.1.1.1, 2.2.2.2'), '2.2.2.2', 0],
    ['not the edge, 1 trusted hop: skips the last entry', false, 1, h('1.1.1.1, 2.2.2.2'), '1.1.1.1', 0],
    ['not the edge, repeated headers read as one list', false, 1, h('1.1.1.1', '2.2.2.2'), '1.1.1.1', 0],
    ['not the edge, no XFF: the peer', false, 0, h(), '10.0.0.9', 40000],
    ['not the edge, garbage in XFF: the peer', false, 0, h('unknown'), '10.0.0.9', 40000],
  ];
  for (const [name, useRemoteAddress, xffNumTrustedHops, headers, address, port] of table) {
    it(name, () => assert.deepEqual(downstreamRemoteAddress({ useRemoteAddress, xffNumTrustedHops }, peer, headers), { address, port }));
  }
});
