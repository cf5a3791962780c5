import { createHash, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { blake2b as nobleBlake2b } from '@noble/hashes/blake2.js';
import { describe, expect, it } from 'vitest';
import { blake2b, openSealedBox } from '../../src/local-api/sealed-box.js';

// Sealed by the Fastly CLI v16.1.0 (`fastly secret-store-entry create --file`, i.e. Go's
// nacl/box.SealAnonymous) to the X25519 key below, captured from its request body.
const RECIPIENT = createPrivateKey({
  key: {
    kty: 'OKP',
    crv: 'X25519',
    d: 'CPiBFW6LzR0pKx0clyJ7O6MMu88w7Rod9NRwSzVWdEo',
    x: 'qV1G64-hPHvJvnH093CUGxezA3QSts-NSVzUvR0lBU8',
  },
  format: 'jwk',
});
const SEALED = Buffer.from(
  'DEDBTAR6hQpW21TamzfF+zW+KZDelEf1WxDJd12wDkSX98gKIlxSROdoE+fgSFTNvxxAVSADZ4koA9psYRDEs9E394a5m4BjWYg6xQ==',
  'base64',
);
const PLAINTEXT = 'Trusted Server seed: 4f2b✓';

describe('local API: sealed boxes (client-side encryption of secrets)', () => {
  it('opens a box sealed by the Fastly CLI', () => {
    const opened = openSealedBox(SEALED, RECIPIENT);
    expect(Buffer.from(opened ?? []).toString('utf8')).toBe(PLAINTEXT);
  });

  it('refuses a box with any byte changed, a truncated box, and another recipient', () => {
    for (const at of [0, 31, 32, 47, 48, SEALED.length - 1]) {
      const altered = Buffer.from(SEALED);
      altered[at] = (altered[at] ?? 0) ^ 1;
      expect(openSealedBox(altered, RECIPIENT)).toBeNull();
    }
    expect(openSealedBox(SEALED.subarray(0, 47), RECIPIENT)).toBeNull();
    expect(openSealedBox(SEALED, generateKeyPairSync('x25519').privateKey)).toBeNull();
  });

  it('computes BLAKE2b like OpenSSL (64 bytes) and @noble/hashes (24 bytes)', () => {
    for (const length of [0, 1, 64, 127, 128, 129, 300]) {
      const input = Uint8Array.from({ length }, (_, i) => (i * 31 + 7) & 0xff);
      const full = createHash('blake2b512').update(input).digest('hex');
      expect(Buffer.from(blake2b(input, 64)).toString('hex')).toBe(full);
      const short = Buffer.from(nobleBlake2b(input, { dkLen: 24 })).toString('hex');
      expect(Buffer.from(blake2b(input, 24)).toString('hex')).toBe(short);
    }
  });
});
