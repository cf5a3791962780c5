import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FastlyApi, leaseStoreApi } from '../../src/fastly-api/index.js';
import { call, kvStore, startApi, tempDir } from './helpers.js';

const generationOf = (headers: Headers): number => Number(headers.get('generation'));

describe('local API: KV stores and keys', () => {
  it('creates a store (201, Fastly’s space-separated timestamps) and lists it with a total', async () => {
    const api = await startApi();
    const res = await call(api, 'POST', '/resources/stores/kv?location=US', {
      json: { name: 'keyring_locks' },
    });
    expect(res.status).toBe(201);
    const store = res.body as Record<string, string>;
    expect(store['id']).toMatch(/^[a-z0-9]{22}$/);
    expect(store['created_at']).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    const list = await call(api, 'GET', '/resources/stores/kv');
    expect(list.body).toEqual({ data: [store], meta: { limit: 1000, total: 1 } });
    expect(api.state.findKvStore('keyring_locks')).toEqual({
      id: store['id'],
      name: 'keyring_locks',
    });
    const dup = await call(api, 'POST', '/resources/stores/kv', {
      json: { name: 'keyring_locks' },
    });
    expect(dup).toMatchObject({
      status: 409,
      body: { msg: 'Conflict', detail: "store with name 'keyring_locks' already exists" },
    });
  });

  it('stores raw values and answers them with Generation and Metadata headers', async () => {
    const api = await startApi();
    const id = await kvStore(api);
    const path = `/resources/stores/kv/${id}/keys/default`;
    const put = await call(api, 'PUT', path, {
      raw: '{"holder":"a"}',
      headers: { metadata: 'm1' },
    });
    expect(put).toMatchObject({ status: 200, text: '' });
    const got = await call(api, 'GET', path);
    expect(got.text).toBe('{"holder":"a"}');
    expect(got.headers.get('content-type')).toBe('application/octet-stream');
    expect(got.headers.get('metadata')).toBe('m1');
    const generation = generationOf(got.headers);
    expect(Number.isSafeInteger(generation) && generation > 0).toBe(true);
    expect((await call(api, 'GET', `/resources/stores/kv/${id}/keys/absent`)).status).toBe(404);
  });

  it('refuses add=true on an existing key with an empty 412 and leaves the value alone', async () => {
    const api = await startApi();
    const id = await kvStore(api);
    const path = `/resources/stores/kv/${id}/keys/lease`;
    expect((await call(api, 'PUT', `${path}?add=true`, { raw: 'first' })).status).toBe(200);
    const second = await call(api, 'PUT', `${path}?add=true`, { raw: 'second' });
    expect(second).toMatchObject({ status: 412, text: '' });
    expect((await call(api, 'GET', path)).text).toBe('first');
  });

  it('compares and sets with if-generation-match; generations increase on every write', async () => {
    const api = await startApi();
    const id = await kvStore(api);
    const path = `/resources/stores/kv/${id}/keys/lease`;
    const absent = await call(api, 'PUT', path, {
      raw: 'x',
      headers: { 'if-generation-match': '1' },
    });
    expect(absent.status).toBe(412);
    await call(api, 'PUT', path, { raw: 'v1' });
    const g1 = generationOf((await call(api, 'GET', path)).headers);
    const stale = await call(api, 'PUT', path, {
      raw: 'v2',
      headers: { 'if-generation-match': String(g1 + 1) },
    });
    expect(stale.status).toBe(412);
    const ok = await call(api, 'PUT', path, {
      raw: 'v2',
      headers: { 'if-generation-match': String(g1) },
    });
    expect(ok.status).toBe(200);
    const after = await call(api, 'GET', path);
    expect(after.text).toBe('v2');
    expect(generationOf(after.headers)).toBeGreaterThan(g1);
    const bad = await call(api, 'PUT', path, {
      raw: 'v3',
      headers: { 'if-generation-match': 'abc' },
    });
    expect(bad.status).toBe(400);
  });

  it('deletes with if-generation-match (412 on mismatch), 404 when absent, 204 with force', async () => {
    const api = await startApi();
    const id = await kvStore(api);
    const path = `/resources/stores/kv/${id}/keys/lease`;
    await call(api, 'PUT', path, { raw: 'v' });
    const g = generationOf((await call(api, 'GET', path)).headers);
    const wrong = await call(api, 'DELETE', path, {
      headers: { 'if-generation-match': String(g - 1) },
    });
    expect(wrong).toMatchObject({ status: 412, text: '' });
    const right = await call(api, 'DELETE', path, {
      headers: { 'if-generation-match': String(g) },
    });
    expect(right.status).toBe(204);
    expect((await call(api, 'DELETE', path)).status).toBe(404);
    expect((await call(api, 'DELETE', `${path}?force=true`)).status).toBe(204);
  });

  it('lists keys in order with prefix, limit and cursor, meta as Fastly answers it', async () => {
    const api = await startApi();
    const id = await kvStore(api);
    for (const key of ['carrot', 'apple', 'batch-2', 'banana', 'batch-1']) {
      await call(api, 'PUT', `/resources/stores/kv/${id}/keys/${key}`, { raw: key });
    }
    const base = `/resources/stores/kv/${id}/keys`;
    const page1 = await call(api, 'GET', `${base}?consistency=strong&limit=4`);
    expect(page1.body).toEqual({
      data: ['apple', 'banana', 'batch-1', 'batch-2'],
      meta: { limit: 4, next_cursor: 'CgdiYXRjaC0y' },
    });
    const page2 = await call(api, 'GET', `${base}?consistency=strong&cursor=CgdiYXRjaC0y&limit=4`);
    expect(page2.body).toEqual({ data: ['carrot'], meta: { limit: 4 } });
    const prefixed = await call(api, 'GET', `${base}?prefix=ba&consistency=eventual`);
    expect(prefixed.body).toEqual({
      data: ['banana', 'batch-1', 'batch-2'],
      meta: { limit: 1000, prefix: 'ba', consistency: 'eventual' },
    });
  });

  it('refuses to delete a store that still has keys, then deletes it once empty', async () => {
    const api = await startApi();
    const id = await kvStore(api);
    await call(api, 'PUT', `/resources/stores/kv/${id}/keys/k`, { raw: 'v' });
    expect((await call(api, 'DELETE', `/resources/stores/kv/${id}`)).status).toBe(409);
    await call(api, 'DELETE', `/resources/stores/kv/${id}/keys/k`);
    expect((await call(api, 'DELETE', `/resources/stores/kv/${id}`)).status).toBe(204);
    expect((await call(api, 'GET', `/resources/stores/kv/${id}`)).status).toBe(404);
  });
});

describe('local API: KV generations past 2^53', () => {
  it('serves, matches and persists generations exactly, as Fastly documents 64-bit ones', async () => {
    const dir = tempDir();
    const first = await startApi(dir);
    const id = await kvStore(first);
    await first.close();
    // Move the counter past 2^53, where a JS number can no longer tell neighbours apart.
    const file = join(dir, 'local-api-state.json');
    const doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    doc['kvGeneration'] = '9007199254740993';
    writeFileSync(file, JSON.stringify(doc));

    const api = await startApi(dir);
    const path = `/resources/stores/kv/${id}/keys/lease`;
    expect((await call(api, 'PUT', path, { raw: 'a' })).status).toBe(200);
    const got = await call(api, 'GET', path);
    expect(got.headers.get('generation')).toBe('9007199254740994');
    // The neighbour that a number would round to is a mismatch, the exact text a match.
    const stale = await call(api, 'PUT', path, {
      raw: 'b',
      headers: { 'if-generation-match': '9007199254740995' },
    });
    expect(stale.status).toBe(412);
    const exact = await call(api, 'PUT', path, {
      raw: 'b',
      headers: { 'if-generation-match': '9007199254740994' },
    });
    expect(exact.status).toBe(200);
    expect((await call(api, 'GET', path)).headers.get('generation')).toBe('9007199254740995');

    // Through the client, end to end.
    const client = new FastlyApi({
      endpoint: api.url,
      token: api.token,
      fetch: (r) => fetch(r),
      timeoutMs: 5000,
    });
    const lease = leaseStoreApi(client, id);
    await expect(lease.get('lease')).resolves.toEqual({
      value: 'b',
      generation: '9007199254740995',
    });
    await expect(lease.remove('lease', '9007199254740994')).resolves.toBe(false);
    await expect(lease.remove('lease', '9007199254740995')).resolves.toBe(true);
    await api.close();
    expect(readFileSync(file, 'utf8')).toContain('"kvGeneration": "9007199254740995"');
  });

  it.each(['18446744073709551616', '-1', '1.0', ''])(
    'answers 400 to an if-generation-match of %j',
    async (header) => {
      const api = await startApi();
      const id = await kvStore(api);
      const res = await call(api, 'PUT', `/resources/stores/kv/${id}/keys/k`, {
        raw: 'v',
        headers: { 'if-generation-match': header },
      });
      expect(res.status).toBe(400);
    },
  );
});
