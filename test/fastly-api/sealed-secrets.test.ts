// Secrets are written sealed to a client key that the trusted signing key signed: the signature
// is checked before anything is sent, the client key is reused until shortly before it expires,
// and the local API opens what the client sealed.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TskError } from '../../src/core/errors.js';
import { FASTLY_SECRET_SIGNING_KEY, FastlyApi } from '../../src/fastly-api/index.js';
import { startLocalApi } from '../../src/local-api/index.js';
import type { LocalApi } from '../../src/local-api/index.js';
import {
  FakeClientKeys,
  TOKEN,
  fakeFetch,
  isClientKeyRequest,
  json,
  rejectionOf,
} from './fake-fetch.js';

const SEED_TEXT = 'NVnTYrw5xoyTJDOwoUWoPJO3A6UCCXOJJUzgGTxxx7k=';
const stored = (name: string) => json({ name, digest: 'd', created_at: '2026-11-22T10:00:00Z' });

/** A client over a fake Fastly whose client keys `keys` issues, with a movable clock. */
function sealingApi(keys: FakeClientKeys, options: { trust?: string; signer?: 'other' } = {}) {
  let now = Date.parse('2026-11-22T10:00:00Z');
  const other = generateKeyPairSync('ed25519').privateKey;
  const { fetch, calls } = fakeFetch((req) => {
    if (isClientKeyRequest(req)) {
      return options.signer === 'other' ? keys.answer(now, 600_000, other) : keys.answer(now);
    }
    return stored((JSON.parse(req.body) as { name: string }).name);
  });
  const api = new FastlyApi({
    endpoint: 'https://api.fastly.test',
    token: TOKEN,
    fetch,
    timeoutMs: 1000,
    now: () => now,
    retry: { maxRetries: 0 },
    ...(options.trust === undefined ? {} : { secretSigningKey: options.trust }),
  });
  return { api, calls, advance: (ms: number) => void (now += ms) };
}

describe('sealed secret writes', () => {
  it('seals to a client key signed by the trusted key, and sends name, secret and client_key', async () => {
    const keys = new FakeClientKeys();
    const { api, calls } = sealingApi(keys, { trust: keys.signingKey });
    await api.putSecret('ss1', 'kid-1', SEED_TEXT, 'create');
    expect(calls.map((c) => [c.method, c.url.pathname])).toEqual([
      ['POST', '/resources/stores/secret/client-key'],
      ['POST', '/resources/stores/secret/ss1/secrets'],
    ]);
    const opened = keys.open(calls[1]?.body ?? '');
    expect(new TextDecoder().decode(opened.plaintext)).toBe(SEED_TEXT);
    expect(opened.name).toBe('kid-1');
    expect(calls[1]?.body).not.toContain(SEED_TEXT);
  });

  it('refuses a client key with a bad signature: a clear error, and the secret is never sent', async () => {
    const keys = new FakeClientKeys();
    const { api, calls } = sealingApi(keys, { trust: keys.signingKey, signer: 'other' });
    const err = await rejectionOf(api.putSecret('ss1', 'kid-1', SEED_TEXT, 'create'));
    expect(err).toBeInstanceOf(TskError);
    expect((err as TskError).code).toBe('upstream_failed');
    expect((err as TskError).message).toMatch(/not signed by the trusted signing key/);
    expect((err as TskError).details).toMatchObject({ outcome: 'refused' });
    expect(calls.map((c) => c.url.pathname)).toEqual(['/resources/stores/secret/client-key']);
  });

  it("trusts Fastly's pinned signing key by default, and nothing else", async () => {
    expect(FASTLY_SECRET_SIGNING_KEY).toBe('CrO/A92vkxEZjtTW7D/Sr+1EMf/q9BahC0sfLkWa+0k=');
    const keys = new FakeClientKeys();
    const { api, calls } = sealingApi(keys);
    const err = await rejectionOf(api.putSecret('ss1', 'kid-1', SEED_TEXT, 'upsert'));
    expect((err as TskError).message).toMatch(/not signed by the trusted signing key/);
    expect(calls).toHaveLength(1);
  });

  it('reuses the client key until a minute before it expires, then fetches a new one', async () => {
    const keys = new FakeClientKeys();
    const { api, calls, advance } = sealingApi(keys, { trust: keys.signingKey });
    const clientKeyCalls = () => calls.filter(isClientKeyRequest).length;
    await api.putSecret('ss1', 'a', 'one', 'upsert');
    advance(8 * 60_000);
    await api.putSecret('ss1', 'b', 'two', 'upsert');
    expect(clientKeyCalls()).toBe(1);
    advance(61_000); // 9 min 1 s of a 10 min key: inside the last minute
    await api.putSecret('ss1', 'c', 'three', 'upsert');
    expect(clientKeyCalls()).toBe(2);
    const sentKeys = calls
      .filter((c) => !isClientKeyRequest(c))
      .map((c) => (JSON.parse(c.body) as { client_key: string }).client_key);
    expect(sentKeys[0]).toBe(sentKeys[1]);
    expect(sentKeys[2]).not.toBe(sentKeys[1]);
  });

  it('treats a malformed client key answer as upstream_failed, sending nothing', async () => {
    for (const body of [
      { public_key: 'not base64!', signature: 'AA==', expires_at: '2030-01-01T00:00:00Z' },
      { public_key: btoa('x'.repeat(32)), signature: btoa('s'), expires_at: 'soon' },
      { signature: 'AA==' },
    ]) {
      const { fetch, calls } = fakeFetch(() => json(body));
      const api = new FastlyApi({
        endpoint: 'https://api.fastly.test',
        token: TOKEN,
        fetch,
        timeoutMs: 1000,
        retry: { maxRetries: 0 },
      });
      const err = await rejectionOf(api.putSecret('ss1', 'k', 'v', 'create'));
      expect((err as TskError).code).toBe('upstream_failed');
      expect(calls).toHaveLength(1);
    }
  });

  it.each(['', 'short', 'CrO/A92vkxEZjtTW7D/Sr+1EMf/q9BahC0sfLkWa+0k', btoa('x'.repeat(31))])(
    'refuses %j as the signing key when the client is made',
    (key) => {
      const make = () =>
        new FastlyApi({
          endpoint: 'https://api.fastly.test',
          token: TOKEN,
          fetch: () => Promise.resolve(json({})),
          timeoutMs: 1000,
          secretSigningKey: key,
        });
      expect(make).toThrow(/signing key must be the base64 of a 32-byte Ed25519 public key/);
    },
  );
});

describe('sealed secret writes to the local API', () => {
  let stateDir: string;
  let local: LocalApi;
  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'tsk-sealed-'));
    local = await startLocalApi({ stateDir, port: 0 });
  });
  afterAll(async () => {
    await local.close();
    await rm(stateDir, { recursive: true, force: true });
  });

  const connect = (secretSigningKey?: string) =>
    new FastlyApi({
      endpoint: local.url,
      token: local.token,
      fetch: (r) => fetch(r),
      timeoutMs: 5000,
      ...(secretSigningKey ? { secretSigningKey } : {}),
    });

  it('stores the seed text of a sealed create, once its own signing key is trusted', async () => {
    // The trust decision the local edge makes: ask the API we started for its signing key.
    const signingKey = await connect().getSecretSigningKey();
    const api = connect(signingKey);
    const { id } = await api.createSecretStore('sealed');
    await api.putSecret(id, 'kid-1', SEED_TEXT, 'create');
    expect(new TextDecoder().decode(local.state.secretPlaintext(id, 'kid-1') ?? undefined)).toBe(
      SEED_TEXT,
    );
    const err = await rejectionOf(api.putSecret(id, 'kid-1', 'other', 'create'));
    expect((err as TskError).code).toBe('secret_exists');
  });

  it("refuses with Fastly's key by default: the local key is not Fastly's, so nothing is stored", async () => {
    const signingKey = await connect().getSecretSigningKey();
    const { id } = await connect(signingKey).createSecretStore('sealed-default');
    const err = await rejectionOf(connect().putSecret(id, 'kid-1', SEED_TEXT, 'create'));
    expect((err as TskError).message).toMatch(/not signed by the trusted signing key/);
    expect(local.state.secretPlaintext(id, 'kid-1')).toBeNull();
  });
});
