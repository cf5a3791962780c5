// src/core/crypto/ed25519.ts signs and verifies over its own base-point table (so the Fastly build
// can bake it into the snapshot); these tests hold it to @noble/ed25519's own results, byte for
// byte and decision for decision, including the encodings strict verification refuses.
import { createHash } from 'node:crypto';
import * as ed from '@noble/ed25519';
import { describe, expect, it } from 'vitest';
import { multiplyBase, multiplyPublic } from '../../src/core/crypto/base-point.js';
import { publicKeyOf, sign, verify } from '../../src/core/crypto/ed25519.js';

const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const hex = (h: string): Uint8Array =>
  Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
/** Deterministic pseudo-random bytes: SHA-512 of a label, so every run tests the same inputs. */
const bytes = (label: string, n: number): Uint8Array =>
  new Uint8Array(createHash('sha512').update(label).digest()).slice(0, n);
const scalar = (label: string): bigint =>
  BigInt(`0x${createHash('sha512').update(label).digest('hex').slice(0, 64)}`) % L;
const le = (n: bigint): Uint8Array => {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 255n);
  return out;
};

// The eight points of small order (and two non-canonical encodings of them), as commonly listed
// for Ed25519 strict-verification tests; decoding is @noble/ed25519's in both implementations.
const SMALL_ORDER = [
  '0100000000000000000000000000000000000000000000000000000000000000',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0000000000000000000000000000000000000000000000000000000000000080',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
];

describe('base-point multiples', () => {
  it('match @noble/ed25519 for window edges, the extremes and pseudo-random scalars', () => {
    const edges = [1n, 2n, 127n, 128n, 129n, 255n, 256n, 257n, 2n ** 252n, L - 2n, L - 1n];
    const random = Array.from({ length: 40 }, (_, i) => scalar(`base ${i}`) || 1n);
    for (const n of [...edges, ...random]) {
      expect(multiplyBase(n).toBytes()).toEqual(ed.Point.BASE.multiply(n).toBytes());
    }
    expect(multiplyBase(0n).is0()).toBe(true);
    // Scalars above L still give the right multiple (the clamped secret scalar can exceed L).
    const big = 2n ** 255n - 1n;
    expect(multiplyBase(big).toBytes()).toEqual(ed.Point.BASE.multiply(big % L).toBytes());
  });

  it('[k]A of other points matches @noble/ed25519, small-order points and the base point included', () => {
    const points = [
      ed.Point.BASE,
      ed.Point.BASE.multiply(scalar('A')),
      ed.Point.BASE.multiply(scalar('B')).add(ed.Point.fromBytes(hex(SMALL_ORDER[4] as string))),
      ...SMALL_ORDER.slice(0, 8).map((t) => ed.Point.fromBytes(hex(t), true)),
    ];
    const scalars = [
      0n,
      1n,
      15n,
      16n,
      17n,
      L - 1n,
      ...Array.from({ length: 6 }, (_, i) => scalar(`k ${i}`)),
    ];
    for (const p of points) {
      for (const k of scalars) {
        expect(multiplyPublic(p, k).equals(p.multiply(k, false))).toBe(true);
      }
    }
  });

  it('refuses a scalar outside 0 <= n < 2^256', () => {
    expect(() => multiplyPublic(ed.Point.BASE, -1n)).toThrow(RangeError);
    expect(() => multiplyBase(-1n)).toThrow(RangeError);
    expect(() => multiplyBase(2n ** 256n)).toThrow(RangeError);
  });
});

describe('sign and verify against @noble/ed25519', () => {
  const cases = Array.from({ length: 12 }, (_, i) => ({
    seed: bytes(`seed ${i}`, 32),
    msg: bytes(`message ${i}`, i * 5),
  }));

  it('derive the same public keys and signatures, byte for byte', async () => {
    for (const { seed, msg } of cases) {
      expect(await publicKeyOf(seed)).toEqual(await ed.getPublicKeyAsync(seed));
      expect(await sign(seed, msg)).toEqual(await ed.signAsync(msg, seed));
    }
  });

  it('decide every tampered, non-canonical and small-order input as @noble/ed25519 strict does', async () => {
    const { seed, msg } = cases[3] as { seed: Uint8Array; msg: Uint8Array };
    const pub = await ed.getPublicKeyAsync(seed);
    const sig = await ed.signAsync(msg, seed);
    const S = BigInt(`0x${Buffer.from(sig.slice(32)).reverse().toString('hex')}`);
    const inputs: Array<[string, Uint8Array, Uint8Array, Uint8Array]> = [
      ['valid', pub, sig, msg],
      ['other message', pub, sig, bytes('other', 9)],
      ['S + L (non-canonical S)', pub, Uint8Array.from([...sig.slice(0, 32), ...le(S + L)]), msg],
      ['S = L', pub, Uint8Array.from([...sig.slice(0, 32), ...le(L)]), msg],
      ['S = 0', pub, Uint8Array.from([...sig.slice(0, 32), ...le(0n)]), msg],
    ];
    for (let bit = 0; bit < 512; bit += 37) {
      const bad = sig.slice();
      bad[bit >> 3] = (bad[bit >> 3] as number) ^ (1 << (bit & 7));
      inputs.push([`signature bit ${bit}`, pub, bad, msg]);
    }
    for (const t of SMALL_ORDER) {
      inputs.push([`A = ${t}`, hex(t), sig, msg]);
      inputs.push([`R = ${t}`, pub, Uint8Array.from([...hex(t), ...sig.slice(32)]), msg]);
      inputs.push([`A = R = ${t}, S = 0`, hex(t), Uint8Array.from([...hex(t), ...le(0n)]), msg]);
    }
    // The base point as a public key takes @noble/ed25519's base-point path in A·k.
    inputs.push(['A = B', ed.Point.BASE.toBytes(), sig, msg]);
    let accepted = 0;
    for (const [name, a, s, m] of inputs) {
      const expected = await ed.verifyAsync(s, m, a, { zip215: false }).catch(() => false);
      expect({ name, verified: await verify(a, s, m) }).toEqual({ name, verified: expected });
      if (expected) accepted++;
    }
    // The valid signature is among the inputs: the comparison covers both outcomes.
    expect(accepted).toBeGreaterThanOrEqual(1);
  });
});
