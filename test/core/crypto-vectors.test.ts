import { createPublicKey, verify as verifyWithNode } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fromBase64Url, toBase64Url, utf8 } from '../../src/core/crypto/base64.js';
import { publicKeyOf, sign, signingKey, verify } from '../../src/core/crypto/ed25519.js';
import { publicJwk } from '../../src/core/keys/jwk.js';
import { decodeSeed, encodeSeed } from '../../src/core/keys/seed-encoding.js';
import {
  buildPayloadV11,
  signPayload,
  signPayloadWith,
} from '../../src/core/signing/request-signing.js';

const hex = (h: string): Uint8Array =>
  Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
const toHex = (b: Uint8Array): string =>
  Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

// RFC 8032 §7.1, TEST 1 to TEST 3: seed, public key, message and signature exactly as published.
// Ed25519 is deterministic, so signing must reproduce the signature byte for byte.
const RFC8032_7_1 = [
  {
    name: 'TEST 1 (empty message)',
    seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    pub: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    msg: '',
    sig:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155' +
      '5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    name: 'TEST 2 (one byte)',
    seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    pub: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    msg: '72',
    sig:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da' +
      '085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    name: 'TEST 3 (two bytes)',
    seed: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    pub: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    msg: 'af82',
    sig:
      '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac' +
      '18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
];

describe.each(RFC8032_7_1)('RFC 8032 §7.1 $name', ({ seed, pub, msg, sig }) => {
  it('derives the published public key from the seed', async () => {
    expect(toHex(await publicKeyOf(hex(seed)))).toBe(pub);
  });
  it('signs the message to the published signature, byte for byte', async () => {
    expect(toHex(await sign(hex(seed), hex(msg)))).toBe(sig);
  });
  it('gives the same key and signature when the seed is expanded once (signingKey)', async () => {
    const key = await signingKey(hex(seed));
    expect(toHex(key.publicKey)).toBe(pub);
    // The key it hands out is a copy: changing it cannot change what is signed.
    key.publicKey.fill(0);
    expect(toHex(await key.sign(hex(msg)))).toBe(sig);
    expect(toHex(await key.sign(hex(msg)))).toBe(sig);
    expect(await signPayloadWith(key, 'payload')).toBe(await signPayload(hex(seed), 'payload'));
  });
  it('verifies the published signature and refuses it with one bit flipped', async () => {
    expect(await verify(hex(pub), hex(sig), hex(msg))).toBe(true);
    const bad = hex(sig);
    bad[0] = (bad[0] ?? 0) ^ 1;
    expect(await verify(hex(pub), bad, hex(msg))).toBe(false);
  });
});

describe('RFC 8037 appendix A', () => {
  const d = 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A';
  it('A.2: the public JWK of the private key has the published x', async () => {
    const seed = fromBase64Url(d);
    if (!seed) throw new Error('bad vector');
    const jwk = publicJwk('k', await publicKeyOf(seed));
    expect(jwk.x).toBe('11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo');
  });
  it('A.4: signs the JWS signing input to the published signature', async () => {
    const seed = fromBase64Url(d);
    if (!seed) throw new Error('bad vector');
    const input = 'eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc';
    expect(toBase64Url(await sign(seed, utf8(input)))).toBe(
      'hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg',
    );
  });
});

describe("Trusted Server's development key", () => {
  const stored = 'NVnTYrw5xoyTJDOwoUWoPJO3A6UCCXOJJUzgGTxxx7k=';

  it('decodes the stored secret to a seed whose JWK has the published x', async () => {
    const seed = decodeSeed(stored, 'ts-2025-10-A');
    expect(encodeSeed(seed)).toBe(stored);
    const jwk = publicJwk('ts-2025-10-A', await publicKeyOf(seed));
    expect(JSON.stringify(jwk)).toBe(
      '{"kty":"OKP","crv":"Ed25519","x":"UVTi04QLrIuB7jXpVfHjUTVN5aIdcbPNr50umTtN8pw","alg":"EdDSA","kid":"ts-2025-10-A"}',
    );
  });

  it('signs a v1.1 payload to the pinned signature, which an independent verifier accepts', async () => {
    const seed = decodeSeed(stored, 'ts-2025-10-A');
    const payload = buildPayloadV11({
      kid: 'ts-2025-10-A',
      host: 'publisher.example',
      id: 'req-1',
      ts: 1763800000000,
    });
    expect(payload).toBe(
      '{"version":"1.1","kid":"ts-2025-10-A","host":"publisher.example","scheme":"https","id":"req-1","ts":1763800000000}',
    );
    // Pinned from OpenSSL (node:crypto), an implementation independent of @noble/ed25519:
    // Trusted Server signs the payload text itself with raw Ed25519, so the bytes are fixed.
    const pinned =
      'k0ohGlOVv9H9VZBikwUwlRPsgR-sG3pq19qLxXp5hLpG0X8xn5tQwSEELiRepu4r7BZ0Zv3EnwnM--1KSujCBg';
    expect(await signPayload(seed, payload)).toBe(pinned);
    const x = fromBase64Url('UVTi04QLrIuB7jXpVfHjUTVN5aIdcbPNr50umTtN8pw');
    const sigBytes = fromBase64Url(pinned);
    if (!x || !sigBytes) throw new Error('decode');
    expect(await verify(x, sigBytes, utf8(payload))).toBe(true);
    // The partner's side, with nothing of ours: OpenSSL checks the pinned bytes against the JWK.
    const partnerKey = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: 'UVTi04QLrIuB7jXpVfHjUTVN5aIdcbPNr50umTtN8pw' },
      format: 'jwk',
    });
    expect(verifyWithNode(null, Buffer.from(payload), partnerKey, Buffer.from(sigBytes))).toBe(
      true,
    );
    expect(
      verifyWithNode(null, Buffer.from(`${payload} `), partnerKey, Buffer.from(sigBytes)),
    ).toBe(false);
  });

  it('refuses a stored secret that is not a base64 32-byte seed, without echoing it', () => {
    for (const bad of ['not base64!', 'AAAA', `${stored}AAAA`]) {
      expect(() => decodeSeed(bad, 'k1')).toThrow(/"k1" is not a base64 32-byte/);
      try {
        decodeSeed(bad, 'k1');
      } catch (err) {
        expect(String(err)).not.toContain(bad);
      }
    }
  });
});
