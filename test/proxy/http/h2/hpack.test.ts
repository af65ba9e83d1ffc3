import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HpackDecoder } from '../../../../src/proxy/http/h2/hpack-decoder.js';
import { HpackEncoder } from '../../../../src/proxy/http/h2/hpack-encoder.js';
import { huffmanDecode, huffmanEncode, huffmanEncodedLength, HUFFMAN_CODE, HUFFMAN_LENGTH } from '../../../../src/proxy/http/h2/hpack-huffman.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const pairs = (l: string[]): [string, string][] => { const o: [string, string][] = []; for (let i = 0; i < l.length; i += 2) o.push([l[i]!, l[i + 1]!]); return o; };

function decodeAll(d: HpackDecoder, block: Buffer): [string, string][] {
  const out: string[] = [];
  assert.equal(d.decode(block, 0, block.length, out), true, d.error);
  return pairs(out);
}

describe('HPACK integers and literals (RFC 7541 C.1, C.2)', () => {
  // Single fields decoded by a fresh decoder: [name, block, fields, table size after].
  const CASES: [string, string, [string, string][], number][] = [
    ['C.2.1 literal with indexing', '400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572', [['custom-key', 'custom-header']], 55],
    ['C.2.2 literal without indexing', '040c 2f73 616d 706c 652f 7061 7468', [[':path', '/sample/path']], 0],
    ['C.2.3 literal never indexed', '1008 7061 7373 776f 7264 0673 6563 7265 74', [['password', 'secret']], 0],
    ['C.2.4 indexed', '82', [[':method', 'GET']], 0],
    // C.1.2: 1337 with a 5-bit prefix is 1f 9a 0a; as an index with 4-bit prefix it is too large, so
    // use it as a string length instead: a name index of 15+ via 0f xx.
    ['4-bit prefix index 16 (0f 01)', '0f01 0161', [['accept-encoding', 'a']], 0],
  ];
  for (const [name, block, fields, size] of CASES) {
    it(name, () => {
      const d = new HpackDecoder();
      assert.deepEqual(decodeAll(d, hex(block)), fields);
      assert.equal(d.tableSize, size);
    });
  }

  it('encodes integers like C.1 (10 and 1337 on a 5-bit prefix, 42 on 8 bits) via size updates and lengths', () => {
    const e = new HpackEncoder(4096);
    e.setPeerMaxTableSize(10); // -> update to 10 (5-bit prefix): 2a
    e.begin();
    assert.equal(e.buffer.subarray(0, e.length).toString('hex'), '2a');
    const e2 = new HpackEncoder(2000);
    e2.setPeerMaxTableSize(1337); // 1337 on a 5-bit prefix: 3f 9a 0a (0x20 | 31, then 1306 = 0x9a 0x0a)
    e2.begin();
    assert.equal(e2.buffer.subarray(0, e2.length).toString('hex'), '3f9a0a');
  });
});

describe('HPACK request examples (RFC 7541 C.3, C.4): one decoder across requests', () => {
  const C3 = [
    ['8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d', [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']], 57],
    ['8286 84be 5808 6e6f 2d63 6163 6865', [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'], ['cache-control', 'no-cache']], 110],
    ['8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65', [[':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value']], 164],
  ] as const;
  const C4 = [
    ['8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff', C3[0][1], 57],
    ['8286 84be 5886 a8eb 1064 9cbf', C3[1][1], 110],
    ['8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf', C3[2][1], 164],
  ] as const;

  it('C.3 without Huffman', () => {
    const d = new HpackDecoder();
    for (const [block, fields, size] of C3) {
      assert.deepEqual(decodeAll(d, hex(block)), fields);
      assert.equal(d.tableSize, size);
    }
  });

  it('C.4 with Huffman', () => {
    const d = new HpackDecoder();
    for (const [block, fields, size] of C4) {
      assert.deepEqual(decodeAll(d, hex(block)), fields);
      assert.equal(d.tableSize, size);
    }
  });

  it('the encoder produces the C.4 bytes exactly', () => {
    const e = new HpackEncoder();
    for (const [block, fields] of C4) {
      e.begin();
      for (const [n, v] of fields) e.field(n, v);
      assert.equal(e.buffer.subarray(0, e.length).toString('hex'), block.replace(/\s+/g, ''));
    }
  });
});

describe('HPACK response examples (RFC 7541 C.5, C.6): 256-byte table, evictions', () => {
  const F1: [string, string][] = [[':status', '302'], ['cache-control', 'private'], ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'], ['location', 'https://www.example.com']];
  const F2: [string, string][] = [[':status', '307'], ['cache-control', 'private'], ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'], ['location', 'https://www.example.com']];
  const F3: [string, string][] = [[':status', '200'], ['cache-control', 'private'], ['date', 'Mon, 21 Oct 2013 20:13:22 GMT'], ['location', 'https://www.example.com'], ['content-encoding', 'gzip'], ['set-cookie', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1']];
  const C5: [string, [string, string][], number][] = [
    [`4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d`, F1, 222],
    ['4803 3330 37c1 c0bf', F2, 222],
    [`88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31`, F3, 215],
  ];
  const C6: [string, [string, string][], number][] = [
    ['4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3', F1, 222],
    ['4883 640e ffc1 c0bf', F2, 222],
    ['88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07', F3, 215],
  ];
  for (const [name, seq] of [['C.5 without Huffman', C5], ['C.6 with Huffman', C6]] as const) {
    it(name, () => {
      const d = new HpackDecoder(256);
      for (const [block, fields, size] of seq) {
        assert.deepEqual(decodeAll(d, hex(block)), fields);
        assert.equal(d.tableSize, size);
      }
    });
  }

  it('our encoder (its own indexing choices) round-trips the C.5 responses through a 256-byte table', () => {
    const e = new HpackEncoder(256);
    const d = new HpackDecoder(256);
    for (const fields of [F1, F2, F3, F1, F3]) {
      e.begin();
      for (const [n, v] of fields) e.field(n, v);
      assert.deepEqual(decodeAll(d, Buffer.from(e.buffer.subarray(0, e.length))), fields);
      assert.equal(d.tableSize, e.tableSize);
    }
  });
});

describe('Huffman code', () => {
  it('is a complete canonical prefix code with the RFC 7541 Appendix B codes', () => {
    let kraft = 0;
    for (let s = 0; s <= 256; s++) kraft += 2 ** -HUFFMAN_LENGTH[s]!;
    assert.equal(kraft, 1);
    // Spot checks against Appendix B.
    assert.deepEqual([HUFFMAN_CODE[0], HUFFMAN_LENGTH[0]], [0x1ff8, 13]);
    assert.deepEqual([HUFFMAN_CODE[48], HUFFMAN_LENGTH[48]], [0x0, 5]); // '0'
    assert.deepEqual([HUFFMAN_CODE[32], HUFFMAN_LENGTH[32]], [0x14, 6]); // ' '
    assert.deepEqual([HUFFMAN_CODE[92], HUFFMAN_LENGTH[92]], [0x7fff0, 19]); // '\'
    assert.deepEqual([HUFFMAN_CODE[255], HUFFMAN_LENGTH[255]], [0x3ffffee, 26]);
    assert.deepEqual([HUFFMAN_CODE[256], HUFFMAN_LENGTH[256]], [0x3fffffff, 30]); // EOS
  });

  it('round-trips every byte value, and random strings', () => {
    const all = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('');
    let seed = 7;
    const rnd = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
    const samples = [all, '', 'a', 'www.example.com', 'no-cache'];
    for (let i = 0; i < 200; i++) samples.push(Array.from({ length: rnd() % 40 }, () => String.fromCharCode(rnd() % 256)).join(''));
    for (const s of samples) {
      const buf = Buffer.alloc(s.length * 4 + 8);
      const n = huffmanEncode(s, buf, 0);
      assert.equal(n, huffmanEncodedLength(s));
      const out = Buffer.alloc(n * 2 + 8);
      const m = huffmanDecode(buf, 0, n, out);
      assert.equal(out.subarray(0, m).toString('latin1'), s);
    }
  });

  it('rejects EOS in the string, padding over 7 bits, and padding that is not all ones', () => {
    const out = Buffer.alloc(64);
    assert.equal(huffmanDecode(hex('ffffffff'), 0, 4, out), -1, 'EOS (30 ones) inside');
    assert.equal(huffmanDecode(hex('1fff'), 0, 2, out), -1, "'0' then 11 bits of padding");
    assert.equal(huffmanDecode(hex('00'), 0, 1, out), -1, "'0' then 000 padding");
    assert.equal(huffmanDecode(hex('07'), 0, 1, out), 1, "'0' then 111 padding is fine");
  });
});

describe('HPACK decoder errors and flags', () => {
  // Each must fail to decode (COMPRESSION_ERROR).
  const BAD: [string, string][] = [
    ['index 0', '80'],
    ['index beyond the tables', 'be'],
    ['literal name index beyond the tables', '7e0161'],
    ['string longer than the block', '400a 6162'],
    ['truncated integer', 'ff'],
    ['integer too large', 'ffffffffffff7f'],
    ['bad Huffman in a value', '0481 ff'],
    ['table size update after a field', '82 20'],
    ['table size update over the setting', '3fe21f'], // 4097
    ['block ends inside a literal', '40'],
  ];
  for (const [name, block] of BAD) {
    it(`fails: ${name}`, () => {
      const d = new HpackDecoder();
      const b = hex(block);
      assert.equal(d.decode(b, 0, b.length, []), false);
      assert.notEqual(d.error, '');
    });
  }

  it('table size updates at the start are applied (several allowed)', () => {
    const d = new HpackDecoder();
    decodeAll(d, hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'));
    assert.equal(d.tableSize, 55);
    assert.deepEqual(decodeAll(d, hex('20 3f e1 1f 82')), [[':method', 'GET']]); // 0, then 4096
    assert.equal(d.tableSize, 0);
  });

  it('marks (but decodes) upper-case names, control characters and edge whitespace', () => {
    for (const block of ['0001 4101 61', '0001 6101 0a', '0001 6102 2061', '0001 6102 0061', '0001 6102 6109']) {
      const d = new HpackDecoder();
      const b = hex(block);
      const out: string[] = [];
      assert.equal(d.decode(b, 0, b.length, out), true);
      assert.equal(d.invalid, true, block);
      assert.equal(out.length, 2);
    }
    const d = new HpackDecoder();
    const ok = hex('0001 6103 6120 62');
    d.decode(ok, 0, ok.length, []);
    assert.equal(d.invalid, false, 'inner space is fine');
  });

  it('an invalid field stored in the table stays invalid when referenced later', () => {
    const d = new HpackDecoder();
    const b1 = hex('4001 4101 61'); // 'A': 'a' with indexing
    d.decode(b1, 0, b1.length, []);
    assert.equal(d.invalid, true);
    const b2 = hex('be');
    d.decode(b2, 0, b2.length, []);
    assert.equal(d.invalid, true);
  });

  it('over the list size: overflow set, the rest still decoded into the table', () => {
    const d = new HpackDecoder();
    d.maxListSize = 60;
    const out: string[] = [];
    const b = hex('4001 6101 62 4001 6301 64 4001 6501 66'); // a:b c:d e:f, 34 each
    assert.equal(d.decode(b, 0, b.length, out), true);
    assert.equal(d.overflow, true);
    assert.deepEqual(out, ['a', 'b']);
    assert.equal(d.tableLength, 3);
    assert.equal(d.listSize, 102);
  });
});

describe('HPACK encoder', () => {
  it('a repeated response head costs a byte a field', () => {
    const e = new HpackEncoder();
    const head: [string, string][] = [['content-type', 'text/plain'], ['date', 'Mon, 01 Jan 2024 00:00:00 GMT'], ['server', 'envoy'], ['x-envoy-upstream-service-time', '1']];
    const sizes: number[] = [];
    for (let i = 0; i < 3; i++) {
      e.begin();
      e.status(200);
      for (const [n, v] of head) e.field(n, v);
      sizes.push(e.length);
    }
    assert.ok(sizes[0]! > 40);
    assert.equal(sizes[1], 5);
    assert.equal(sizes[2], 5);
  });

  it('credentials are never indexed; values that change every time are not indexed', () => {
    const e = new HpackEncoder();
    const d = new HpackDecoder();
    e.begin();
    e.field('authorization', 'Bearer abc');
    e.field('cookie', 'a=b');
    e.field('content-length', '12');
    e.field(':path', '/a/b');
    const block = Buffer.from(e.buffer.subarray(0, e.length));
    assert.equal(block[0]! & 0xf0, 0x10, 'never-indexed literal');
    assert.deepEqual(decodeAll(d, block), [['authorization', 'Bearer abc'], ['cookie', 'a=b'], ['content-length', '12'], [':path', '/a/b']]);
    assert.equal(d.tableSize, 0);
    assert.equal(e.tableSize, 0);
  });

  it('a request id is indexed once for its name; later ids refer to the name, unindexed', () => {
    const e = new HpackEncoder();
    const d = new HpackDecoder();
    const ids = ['0a1b2c3d-0000-4000-8000-000000000001', '0a1b2c3d-0000-4000-8000-000000000002', '0a1b2c3d-0000-4000-8000-000000000003'];
    const blocks = ids.map((id) => { e.begin(); e.field('x-request-id', id); return Buffer.from(e.buffer.subarray(0, e.length)); });
    assert.equal(blocks[0]![0], 0x40, 'first: literal with indexing, new name');
    assert.equal(blocks[1]![0], 0x0f, 'then: without indexing, name index 62 (4-bit prefix 15 + 47)');
    assert.equal(blocks[1]![1], 62 - 15);
    ids.forEach((id, i) => assert.deepEqual(decodeAll(d, blocks[i]!), [['x-request-id', id]]));
    assert.equal(d.tableLength, 1);
    assert.equal(e.tableSize, d.tableSize);
  });

  it('the peer shrinking the table: the next block starts with the smallest size, then the new one', () => {
    const e = new HpackEncoder();
    const d = new HpackDecoder();
    e.begin();
    e.field('x-a', 'one');
    decodeAll(d, Buffer.from(e.buffer.subarray(0, e.length)));
    e.setPeerMaxTableSize(0);
    e.setPeerMaxTableSize(100);
    e.begin();
    e.field('x-a', 'one');
    const block = Buffer.from(e.buffer.subarray(0, e.length));
    assert.equal(block.subarray(0, 3).toString('hex'), '203f45'); // 0, then 100
    assert.deepEqual(decodeAll(d, block), [['x-a', 'one']]);
    assert.equal(d.tableSize, e.tableSize);
  });

  it('random field sets round-trip over many blocks with evictions', () => {
    const e = new HpackEncoder();
    const d = new HpackDecoder();
    let seed = 42;
    const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
    const names = ['x-a', 'x-b', 'user-agent', 'accept', ':path', 'cookie', 'x-long'];
    for (let i = 0; i < 500; i++) {
      const fields: [string, string][] = [];
      for (let j = rnd(8); j > 0; j--) {
        const n = names[rnd(names.length)]!;
        fields.push([n, n === 'x-long' ? 'v'.repeat(rnd(3000)) : `v${rnd(50)}`]);
      }
      e.begin();
      for (const [n, v] of fields) e.field(n, v);
      assert.deepEqual(decodeAll(d, Buffer.from(e.buffer.subarray(0, e.length))), fields);
      assert.equal(d.tableSize, e.tableSize);
    }
  });
});
