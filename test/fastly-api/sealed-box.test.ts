// Our sealed boxes against libsodium's own crypto_box_seal, both ways, so the format Fastly
// opens is libsodium's and not merely our own round trip.
import sodium from 'libsodium-wrappers';
import { beforeAll, describe, expect, it } from 'vitest';
import { SEAL_OVERHEAD, loadX25519, openBox, sealBox } from '../../src/fastly-api/sealed-box.js';
import type { X25519 } from '../../src/fastly-api/sealed-box.js';

const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));
const text = (bytes: Uint8Array | null): string => new TextDecoder().decode(bytes ?? undefined);
const SEED_TEXT = 'NVnTYrw5xoyTJDOwoUWoPJO3A6UCCXOJJUzgGTxxx7k=';

let x25519: X25519;
beforeAll(async () => {
  await sodium.ready;
  x25519 = await loadX25519();
});

describe('sealed boxes (crypto_box_seal) with @noble/*', () => {
  it('seals what libsodium opens, for empty, short and multi-block messages', () => {
    const recipient = sodium.crypto_box_keypair();
    for (const message of ['', 'x', SEED_TEXT, 'é'.repeat(500)]) {
      const sealed = sealBox(
        x25519,
        new TextEncoder().encode(message),
        recipient.publicKey,
        random,
      );
      expect(sealed.length).toBe(new TextEncoder().encode(message).length + SEAL_OVERHEAD);
      const opened = sodium.crypto_box_seal_open(sealed, recipient.publicKey, recipient.privateKey);
      expect(text(opened)).toBe(message);
    }
  });

  it('opens what libsodium seals', () => {
    const recipient = sodium.crypto_box_keypair();
    const sealed = sodium.crypto_box_seal(SEED_TEXT, recipient.publicKey);
    expect(text(openBox(x25519, sealed, recipient.privateKey))).toBe(SEED_TEXT);
  });

  it('uses a fresh ephemeral key from the injected randomness for every box', () => {
    const recipient = sodium.crypto_box_keypair();
    const message = new TextEncoder().encode(SEED_TEXT);
    const a = sealBox(x25519, message, recipient.publicKey, random);
    const b = sealBox(x25519, message, recipient.publicKey, random);
    expect(Buffer.from(a.subarray(0, 32)).equals(Buffer.from(b.subarray(0, 32)))).toBe(false);
    // A fixed ephemeral key gives a fixed box: the randomness is the only varying input.
    const fixed = (n: number) => new Uint8Array(n).fill(7);
    expect(sealBox(x25519, message, recipient.publicKey, fixed)).toEqual(
      sealBox(x25519, message, recipient.publicKey, fixed),
    );
  });

  it('refuses an altered box, a truncated one, and another recipient', () => {
    const recipient = sodium.crypto_box_keypair();
    const sealed = sodium.crypto_box_seal(SEED_TEXT, recipient.publicKey);
    for (const at of [0, 31, 32, 47, 48, sealed.length - 1]) {
      const altered = Uint8Array.from(sealed);
      altered[at] = (altered[at] ?? 0) ^ 1;
      expect(openBox(x25519, altered, recipient.privateKey)).toBeNull();
    }
    expect(openBox(x25519, sealed.subarray(0, 47), recipient.privateKey)).toBeNull();
    expect(openBox(x25519, sealed, sodium.crypto_box_keypair().privateKey)).toBeNull();
  });

  it('refuses to seal to a key that is not 32 bytes', () => {
    expect(() => sealBox(x25519, new Uint8Array(1), new Uint8Array(31), random)).toThrow(
      RangeError,
    );
  });
});
