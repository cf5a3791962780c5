import { createHash, createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { b64, call, secretStore, startApi } from './helpers.js';

describe('local API: secret stores', () => {
  it('creates a store (201 {id,name,created_at}) and finds it by id, by name and in the list', async () => {
    const api = await startApi();
    const res = await call(api, 'POST', '/resources/stores/secret', {
      json: { name: 'signing_keys' },
    });
    expect(res.status).toBe(201);
    const store = res.body as { id: string };
    expect(Object.keys(store)).toEqual(['id', 'name', 'created_at']);
    expect((await call(api, 'GET', `/resources/stores/secret/${store.id}`)).body).toEqual(res.body);
    expect(api.state.findSecretStore('signing_keys')).toEqual({
      id: store.id,
      name: 'signing_keys',
    });
    const list = await call(api, 'GET', '/resources/stores/secret?name=signing_keys');
    expect(list.body).toEqual({ data: [res.body], meta: { limit: 10 } });
  });

  it('pages the store list with cursors (default page of 10)', async () => {
    const api = await startApi();
    for (let i = 0; i < 12; i++) await secretStore(api, `store-${i}`);
    const first = (await call(api, 'GET', '/resources/stores/secret')).body as {
      data: unknown[];
      meta: { limit: number; next_cursor: string };
    };
    expect(first.data).toHaveLength(10);
    const cursor = encodeURIComponent(first.meta.next_cursor);
    const second = await call(api, 'GET', `/resources/stores/secret?cursor=${cursor}`);
    expect((second.body as { data: unknown[]; meta: object }).data).toHaveLength(2);
    expect((second.body as { meta: object }).meta).toEqual({ limit: 10 });
  });

  it('refuses store names outside letters, digits, - _ . and a duplicate name', async () => {
    const api = await startApi();
    const bad = await call(api, 'POST', '/resources/stores/secret', { json: { name: 'a b' } });
    expect(bad.status).toBe(400);
    await secretStore(api, 'api-keys');
    const dup = await call(api, 'POST', '/resources/stores/secret', { json: { name: 'api-keys' } });
    expect(dup.status).toBe(409);
  });

  it('deletes a store with its secrets (204, no body)', async () => {
    const api = await startApi();
    const id = await secretStore(api);
    await call(api, 'POST', `/resources/stores/secret/${id}/secrets`, {
      json: { name: 'k', secret: b64('v') },
    });
    const res = await call(api, 'DELETE', `/resources/stores/secret/${id}`);
    expect(res).toMatchObject({ status: 204, text: '' });
    expect(api.state.findSecretStore('signing_keys')).toBeUndefined();
  });
});

describe('local API: secrets', () => {
  it('POST creates a secret and refuses an existing name with 400 duplicate: name', async () => {
    const api = await startApi();
    const id = await secretStore(api);
    const path = `/resources/stores/secret/${id}/secrets`;
    const res = await call(api, 'POST', path, { json: { name: 'kid-1', secret: b64('seed-1') } });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body as object)).toEqual(['name', 'digest', 'created_at']);
    expect(Buffer.from(api.state.secretPlaintext(id, 'kid-1') ?? []).toString()).toBe('seed-1');
    const dup = await call(api, 'POST', path, { json: { name: 'kid-1', secret: b64('other') } });
    expect(dup).toMatchObject({
      status: 400,
      body: { msg: 'Bad Request', detail: 'duplicate: name' },
    });
    expect(Buffer.from(api.state.secretPlaintext(id, 'kid-1') ?? []).toString()).toBe('seed-1');
  });

  it('PUT creates or recreates (recreated: true only on replace); PATCH recreates or 404s', async () => {
    const api = await startApi();
    const id = await secretStore(api);
    const path = `/resources/stores/secret/${id}/secrets`;
    const created = await call(api, 'PUT', path, { json: { name: 'k', secret: b64('one') } });
    expect(created.status).toBe(200);
    expect(created.body).not.toHaveProperty('recreated');
    const replaced = await call(api, 'PUT', path, { json: { name: 'k', secret: b64('two') } });
    expect(replaced.body).toMatchObject({ name: 'k', recreated: true });
    const patched = await call(api, 'PATCH', path, { json: { name: 'k', secret: b64('three') } });
    expect(patched.body).toMatchObject({ recreated: true });
    expect(Buffer.from(api.state.secretPlaintext(id, 'k') ?? []).toString()).toBe('three');
    const missing = await call(api, 'PATCH', path, { json: { name: 'nope', secret: b64('x') } });
    expect(missing).toMatchObject({ status: 404, body: { msg: 'Record not found' } });
    expect(api.state.secretPlaintext(id, 'nope')).toBeNull();
  });

  it('gives an opaque digest: 32 bytes base64, not the SHA-256 of the value, new on every write', async () => {
    const api = await startApi();
    const id = await secretStore(api);
    const path = `/resources/stores/secret/${id}/secrets`;
    const value = 'secretum servare';
    const first = (await call(api, 'PUT', path, { json: { name: 'a', secret: b64(value) } })).body;
    const again = (await call(api, 'PUT', path, { json: { name: 'a', secret: b64(value) } })).body;
    const digest = (first as { digest: string }).digest;
    expect(Buffer.from(digest, 'base64')).toHaveLength(32);
    const sha = createHash('sha256').update(value).digest();
    expect(digest).not.toBe(sha.toString('base64'));
    expect(digest).not.toBe(sha.toString('hex'));
    expect((again as { digest: string }).digest).not.toBe(digest);
  });

  it('refuses bad base64, an empty secret, more than 64 KB, a bad name and unknown client keys', async () => {
    const api = await startApi();
    const id = await secretStore(api);
    const path = `/resources/stores/secret/${id}/secrets`;
    const post = (json: unknown) => call(api, 'POST', path, { json });
    expect((await post({ name: 'k', secret: 'not base64!' })).status).toBe(400);
    expect((await post({ name: 'k', secret: 'YWJj' + 'ZA' })).status).toBe(400);
    expect((await post({ name: 'k', secret: '' })).status).toBe(400);
    const max = Buffer.alloc(64 * 1024, 1).toString('base64');
    expect((await post({ name: 'max', secret: max })).status).toBe(200);
    const over = Buffer.alloc(64 * 1024 + 1, 1).toString('base64');
    expect((await post({ name: 'over', secret: over })).status).toBe(400);
    expect((await post({ name: 'a b', secret: b64('v') })).status).toBe(400);
    const sealed = await post({ name: 'k', secret: b64('x'.repeat(60)), client_key: b64('k') });
    expect(sealed).toMatchObject({ status: 400, body: { msg: 'Invalid client_key' } });
    expect(api.state.secretPlaintext(id, 'k')).toBeNull();
  });

  it('describes metadata only, lists with cursor pagination (limit ≤ 200) and deletes with 204', async () => {
    const api = await startApi();
    const id = await secretStore(api);
    const path = `/resources/stores/secret/${id}/secrets`;
    for (const name of ['c', 'a', 'b']) {
      await call(api, 'POST', path, { json: { name, secret: b64(`value-${name}`) } });
    }
    const described = await call(api, 'GET', `${path}/a`);
    expect(Object.keys(described.body as object)).toEqual(['name', 'digest', 'created_at']);
    expect(described.text).not.toContain(b64('value-a'));
    const page1 = (await call(api, 'GET', `${path}?limit=2`)).body as {
      data: { name: string }[];
      meta: { limit: number; next_cursor?: string };
    };
    expect(page1.data.map((s) => s.name)).toEqual(['a', 'b']);
    const next = encodeURIComponent(page1.meta.next_cursor ?? '');
    const page2 = (await call(api, 'GET', `${path}?limit=2&cursor=${next}`)).body;
    expect(page2).toMatchObject({ data: [{ name: 'c' }], meta: { limit: 2 } });
    expect((await call(api, 'GET', `${path}?limit=201`)).status).toBe(400);
    expect((await call(api, 'GET', `${path}?cursor=bogus`)).status).toBe(400);
    expect(await call(api, 'DELETE', `${path}/a`)).toMatchObject({ status: 204, text: '' });
    expect((await call(api, 'DELETE', `${path}/a`)).status).toBe(404);
    expect((await call(api, 'GET', `${path}/a`)).status).toBe(404);
  });

  it('hands out client keys signed by its signing key, as Fastly does', async () => {
    const api = await startApi();
    const ck = (await call(api, 'POST', '/resources/stores/secret/client-key')).body as Record<
      string,
      string
    >;
    const sk = (await call(api, 'GET', '/resources/stores/secret/signing-key')).body as {
      signing_key: string;
    };
    expect(Buffer.from(ck['public_key'] ?? '', 'base64')).toHaveLength(32);
    expect(Date.parse(ck['expires_at'] ?? '')).toBeGreaterThan(Date.now());
    const signingKey = createPublicKey({
      key: {
        kty: 'OKP',
        crv: 'Ed25519',
        x: Buffer.from(sk.signing_key, 'base64').toString('base64url'),
      },
      format: 'jwk',
    });
    const message = Buffer.from(ck['public_key'] ?? '', 'base64');
    expect(verify(null, message, signingKey, Buffer.from(ck['signature'] ?? '', 'base64'))).toBe(
      true,
    );
  });
});
