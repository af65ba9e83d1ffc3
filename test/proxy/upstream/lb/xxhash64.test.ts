import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { murmurHash2 } from '../../../../src/proxy/upstream/lb/murmur2.js';
import { W, add, allocRegisters, fromBigInt, mod, mul, rotl, shr, sub, toBigInt, xor } from '../../../../src/proxy/upstream/lb/u64.js';
import { xxHash64, xxHash64Chain } from '../../../../src/proxy/upstream/lb/xxhash64.js';
import { seeded } from './fixtures.js';

const MASK = (1n << 64n) - 1n;

describe('xxHash64', () => {
  // Envoy's test/common/common/hash_test.cc.
  const envoyVectors: [string, bigint][] = [
    ['foo', 3728699739546630719n],
    ['bar', 5234164152756840025n],
    ['foo\nbar', 8917841378505826757n],
    ['lyft', 4400747396090729504n],
    ['', 17241709254077376921n],
  ];
  for (const [input, want] of envoyVectors) {
    it(`Envoy vector ${JSON.stringify(input)}`, () => assert.equal(xxHash64(input), want));
  }

  it('reference vectors', () => {
    assert.equal(xxHash64('The quick brown fox jumps over the lazy dog'), 0x0b242d361fda71bcn);
    assert.equal(xxHash64('10.0.0.1:80'), 0x011facba8043b217n);
    assert.equal(xxHash64('10.0.0.1:80', 1n), 0xa456919bcbffaa92n);
    assert.equal(xxHash64('[::1]:8080_1023'), 0xed4cee5481dc20dfn);
  });

  // From the C library (libxxhash 0.8.1) over bytes (i * 31 + 7) & 0xff: every branch of the
  // algorithm (32-byte stripes, 8-byte, 4-byte and 1-byte tails) and seeds 0, 1, 2^64 - 1.
  const bytes = Uint8Array.from({ length: 256 }, (_, i) => (i * 31 + 7) & 0xff);
  const libVectors: [number, bigint, bigint][] = [
    [0, 0n, 0xef46db3751d8e999n], [0, 1n, 0xd5afba1336a3be4bn], [0, MASK, 0x298f4c84b24f5380n],
    [1, 0n, 0xa96c7f0ce858bbb7n], [1, 1n, 0x0766883a0a47a96an], [1, MASK, 0xd7f46261ba7c5b95n],
    [3, 0n, 0x56e6957632a487f9n], [4, 1n, 0x5e9f99aa13de2d02n], [7, MASK, 0x80c7fbfebd75b559n],
    [8, 0n, 0x3da5c7aa269683e0n], [9, 1n, 0x2a77c6e783fb18b1n], [15, MASK, 0x9bb8c61fe82d1156n],
    [16, 0n, 0xa19ad429b02bc413n], [31, 1n, 0xd7ac4f4bea4e460an], [32, 0n, 0x8d57d6a4671cc43dn],
    [32, MASK, 0xa428e1465b2e4331n], [33, 1n, 0xb1575979b72c805an], [63, 0n, 0x5c320a0d2707057fn],
    [64, MASK, 0x04573ca9335266c2n], [65, 0n, 0xf3980c34bae65dc1n], [100, 1n, 0xcd8103aecd2ed5cfn],
    [255, 0n, 0x2c3db4bb567f731en], [255, MASK, 0x240a127cab9fef86n],
  ];
  for (const [len, seed, want] of libVectors) {
    it(`libxxhash: ${len} bytes, seed ${seed === MASK ? '2^64-1' : seed}`, () => assert.equal(xxHash64(bytes.subarray(0, len), seed), want));
  }

  it('hashes strings as latin1 bytes, as the codecs decode them', () => {
    const latin1 = String.fromCharCode(0xc3, 0xa9); // the UTF-8 bytes of "é", decoded as latin1
    assert.equal(xxHash64(latin1), xxHash64(Uint8Array.of(0xc3, 0xa9)));
    assert.equal(xxHash64('é€'), xxHash64(new TextEncoder().encode('é€'))); // above U+00FF: UTF-8
  });

  it('chains values like HashUtil::xxHash64(Span) (Envoy vector)', () => {
    assert.equal(xxHash64Chain(['foo', 'bar']), 17745830980996999794n);
    assert.equal(xxHash64Chain(['foo']), xxHash64('foo'));
  });
});

describe('murmurHash2 (MURMUR_HASH_2)', () => {
  // Envoy's hash_test.cc; equal to libstdc++ std::hash<std::string>.
  const vectors: [string, bigint][] = [
    ['foo', 9631199822919835226n],
    ['bar', 11474628671133349555n],
    ['foo\nbar', 16306510975912980159n],
    ['lyft', 12847078931730529320n],
    ['', 6142509188972423790n],
    ['0123456789abcdefXYZ', 3947215215395305647n],
  ];
  for (const [input, want] of vectors) {
    it(`vector ${JSON.stringify(input)}`, () => assert.equal(murmurHash2(input), want));
  }
});

describe('u64 register arithmetic', () => {
  const random = seeded(7);
  const u64 = (): bigint => (BigInt(Math.floor(random() * 2 ** 32)) << 32n) | BigInt(Math.floor(random() * 2 ** 32));
  const edge = [0n, 1n, MASK, 1n << 63n, 0xffffffffn, 1n << 32n];
  const samples = [...edge, ...Array.from({ length: 200 }, u64)];
  const A = allocRegisters(3), B = A + 1, D = A + 2;
  const binary: [string, (d: number, a: number, b: number) => void, (a: bigint, b: bigint) => bigint][] = [
    ['mul', mul, (a, b) => a * b],
    ['add', add, (a, b) => a + b],
    ['sub', sub, (a, b) => a - b],
    ['xor', xor, (a, b) => a ^ b],
  ];
  for (const [name, op, ref] of binary) {
    it(`${name} matches BigInt mod 2^64, also in place`, () => {
      for (const a of samples) {
        const b = u64();
        fromBigInt(A, a); fromBigInt(B, b);
        op(D, A, B);
        assert.equal(toBigInt(D), ref(a, b) & MASK);
        op(A, A, B); // destination aliases an operand
        assert.equal(toBigInt(A), ref(a, b) & MASK);
      }
    });
  }

  it('rotl, shr, mod, fromBigInt match BigInt', () => {
    for (const a of samples) {
      for (const n of [1, 11, 31]) {
        fromBigInt(A, a); rotl(D, A, n);
        assert.equal(toBigInt(D), ((a << BigInt(n)) | (a >> BigInt(64 - n))) & MASK);
      }
      for (const n of [29, 32, 33, 47]) {
        fromBigInt(A, a); shr(D, A, n);
        assert.equal(toBigInt(D), a >> BigInt(n));
      }
      fromBigInt(A, a);
      assert.deepEqual([W[2 * A], W[2 * A + 1]], [Number(a >> 32n), Number(a & 0xffffffffn)]);
      for (const m of [7, 65537, 5000011]) assert.equal(mod(A, m), Number(a % BigInt(m)));
    }
    fromBigInt(A, -1n); // wraps like a C++ uint64_t
    assert.equal(toBigInt(A), MASK);
  });
});
