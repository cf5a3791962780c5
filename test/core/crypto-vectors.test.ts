import { describe, expect, it } from 'vitest';
import { fromBase64Url, toBase64Url, utf8 } from '../../src/core/crypto/base64.js';
import { publicKeyOf, sign, verify } from '../../src/core/crypto/ed25519.js';
import { publicJwk } from '../../src/core/keys/jwk.js';
import { decodeSeed, encodeSeed } from '../../src/core/keys/seed-encoding.js';
import { buildPayloadV11, signPayload } from '../../src/core/signing/request-signing.js';

const hex = (h: string): Uint8Array =>
  Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
const toHex = (b: Uint8Array): string =>
  Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

describe('RFC 8032 §7.1 test 1', () => {
  const seed = hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
  const pub = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
  const sig =
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';

  it('derives the public key from the seed', async () => {
    expect(toHex(await publicKeyOf(seed))).toBe(pub);
  });
  it('signs the empty message to the published signature', async () => {
    expect(toHex(await sign(seed, new Uint8Array(0)))).toBe(sig);
  });
  it('verifies the signature and refuses a flipped bit', async () => {
    expect(await verify(hex(pub), hex(sig), new Uint8Array(0))).toBe(true);
    const bad = hex(sig);
    bad[0] = (bad[0] ?? 0) ^ 1;
    expect(await verify(hex(pub), bad, new Uint8Array(0))).toBe(false);
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

  it('signs a v1.1 payload that verifies against that x', async () => {
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
    const signature = await signPayload(seed, payload);
    const x = fromBase64Url('UVTi04QLrIuB7jXpVfHjUTVN5aIdcbPNr50umTtN8pw');
    const sigBytes = fromBase64Url(signature);
    if (!x || !sigBytes) throw new Error('decode');
    expect(signature).toMatch(/^[A-Za-z0-9_-]{86}$/);
    expect(await verify(x, sigBytes, utf8(payload))).toBe(true);
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
