import { x25519 as nobleFull } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { x25519 } from '../../src/fastly-api/x25519.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// RFC 7748 §6.1.
const ALICE_SK = '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a';
const ALICE_PK = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a';
const BOB_SK = '5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb';
const BOB_PK = 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f';
const SHARED = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';

describe('x25519 on the Montgomery ladder alone', () => {
  it('matches RFC 7748 §6.1 byte for byte', () => {
    expect(toHex(x25519.getPublicKey(hex(ALICE_SK)))).toBe(ALICE_PK);
    expect(toHex(x25519.getPublicKey(hex(BOB_SK)))).toBe(BOB_PK);
    expect(toHex(x25519.getSharedSecret(hex(ALICE_SK), hex(BOB_PK)))).toBe(SHARED);
    expect(toHex(x25519.getSharedSecret(hex(BOB_SK), hex(ALICE_PK)))).toBe(SHARED);
  });

  it('agrees with @noble/curves’ own x25519 on other keys', () => {
    for (let i = 1; i <= 8; i++) {
      const sk = Uint8Array.from({ length: 32 }, (_, j) => (i * 31 + j * 7) & 0xff);
      const peer = nobleFull.getPublicKey(
        Uint8Array.from({ length: 32 }, (_, j) => (i + j) & 0xff),
      );
      expect(toHex(x25519.getPublicKey(sk))).toBe(toHex(nobleFull.getPublicKey(sk)));
      expect(toHex(x25519.getSharedSecret(sk, peer))).toBe(
        toHex(nobleFull.getSharedSecret(sk, peer)),
      );
    }
  });

  it('refuses a low-order peer key (all zeros)', () => {
    expect(() => x25519.getSharedSecret(hex(ALICE_SK), new Uint8Array(32))).toThrow();
  });
});
