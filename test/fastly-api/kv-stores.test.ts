import { describe, expect, it } from 'vitest';
import { TskError } from '../../src/core/errors.js';
import { apiWith, json, rejectionOf } from './fake-fetch.js';

const GEN = '1750707679477774';

function value(body: string, generation: number | string, metadata = ''): Response {
  return new Response(body, {
    status: 200,
    headers: {
      'Content-Type': 'application/octet-stream',
      Generation: String(generation),
      Metadata: metadata,
    },
  });
}

describe('KV stores', () => {
  it('creates a store with a JSON name and lists stores across pages', async () => {
    const { api, calls } = apiWith((req) => {
      if (req.method === 'POST') return json({ id: 'kv1', name: 'keyring_locks' }, 201);
      return req.url.searchParams.get('cursor') === 'n'
        ? json({ data: [{ id: 'kv2', name: 'b' }], meta: { limit: 1000 } })
        : json({ data: [{ id: 'kv1', name: 'a' }], meta: { limit: 1000, next_cursor: 'n' } });
    });
    await expect(api.createKvStore('keyring_locks')).resolves.toEqual({
      id: 'kv1',
      name: 'keyring_locks',
    });
    expect(JSON.parse(calls[0]?.body ?? '')).toEqual({ name: 'keyring_locks' });
    expect(calls[0]?.url.pathname).toBe('/resources/stores/kv');
    await expect(api.listKvStores()).resolves.toEqual([
      { id: 'kv1', name: 'a' },
      { id: 'kv2', name: 'b' },
    ]);
  });

  it('gets the raw value with its Generation and Metadata, and null on 404', async () => {
    const { api, calls } = apiWith((req) =>
      req.url.pathname.endsWith('/default')
        ? value('{"holder":"a"}', GEN, 'm')
        : new Response('', { status: 404 }),
    );
    await expect(api.kvGet('kv1', 'default')).resolves.toEqual({
      value: '{"holder":"a"}',
      generation: GEN,
      metadata: 'm',
    });
    await expect(api.kvGet('kv1', 'other')).resolves.toBeNull();
    expect(calls[0]?.url.pathname).toBe('/resources/stores/kv/kv1/keys/default');
    expect(calls[0]?.headers.get('Accept')).toBe('*/*');
  });

  it('reports empty Metadata as null', async () => {
    const { api } = apiWith(() => value('v', 1));
    await expect(api.kvGet('kv1', 'k')).resolves.toMatchObject({ metadata: null });
  });

  it.each([
    ['a generation above 2^53', '9007199254740993'],
    ['the largest 64-bit generation', '18446744073709551615'],
    ['zero', '0'],
  ])('keeps %s exact as text', async (_what, header) => {
    const { api } = apiWith(() => value('v', header));
    await expect(api.kvGet('kv1', 'k')).resolves.toMatchObject({ generation: header });
  });

  it.each(['', 'abc', '-1', '18446744073709551616', '123456789012345678901', '1.5', '1e3', '+1'])(
    'treats a Generation header of %j as a malformed answer',
    async (header) => {
      const { api } = apiWith(() => value('v', header));
      const err = await rejectionOf(api.kvGet('kv1', 'k'));
      expect((err as TskError).code).toBe('upstream_failed');
    },
  );

  it('adds with ?add=true and the raw body, answering true and never reading the key back', async () => {
    const { api, calls } = apiWith(() => new Response('', { status: 200 }));
    await expect(api.kvPut('kv1', 'a/b', 'v&=+ %', { add: true })).resolves.toBe(true);
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call?.method).toBe('PUT');
    expect(call?.url.pathname).toBe('/resources/stores/kv/kv1/keys/a%2Fb');
    expect(call?.url.search).toBe('?add=true');
    expect(call?.body).toBe('v&=+ %');
    expect(call?.headers.get('if-generation-match')).toBeNull();
  });

  it('replaces with if-generation-match sent exactly, and answers false on 412', async () => {
    const big = '18446744073709551615';
    const { api, calls } = apiWith(() => new Response('', { status: 412 }));
    await expect(api.kvPut('kv1', 'k', 'v', { ifGenerationMatch: big })).resolves.toBe(false);
    expect(calls[0]?.headers.get('if-generation-match')).toBe(big);
    expect(calls[0]?.url.search).toBe('');
  });

  it.each(['1.5', '-1', '', '18446744073709551616', ' 1'])(
    'refuses %j as a generation to match, sending nothing',
    async (generation) => {
      const { api, calls } = apiWith(() => new Response('', { status: 200 }));
      const err = await rejectionOf(api.kvPut('kv1', 'k', 'v', { ifGenerationMatch: generation }));
      expect((err as TskError).code).toBe('invalid_request');
      const del = await rejectionOf(api.kvDelete('kv1', 'k', { ifGenerationMatch: generation }));
      expect((del as TskError).code).toBe('invalid_request');
      expect(calls).toHaveLength(0);
    },
  );

  it('deletes with if-generation-match: true on 204, false on 404 and on 412', async () => {
    const statuses = [204, 404, 412];
    const { api, calls } = apiWith(
      () => new Response(null, { status: statuses[calls.length - 1] ?? 500 }),
    );
    await expect(api.kvDelete('kv1', 'k', { ifGenerationMatch: '5' })).resolves.toBe(true);
    await expect(api.kvDelete('kv1', 'k', { ifGenerationMatch: '5' })).resolves.toBe(false);
    await expect(api.kvDelete('kv1', 'k', { ifGenerationMatch: '5' })).resolves.toBe(false);
    expect(
      calls.every((c) => c.method === 'DELETE' && c.headers.get('if-generation-match') === '5'),
    ).toBe(true);
    expect(calls[0]?.url.search).toBe('');
  });

  it('keeps other failures of a KV write an error, not a precondition result', async () => {
    const { api } = apiWith(() => json({ msg: 'boom' }, 500));
    const err = await rejectionOf(api.kvPut('kv1', 'k', 'v', { add: true }));
    expect(err).toBeInstanceOf(TskError);
    expect((err as TskError).code).toBe('upstream_failed');
    expect((err as TskError).details).toMatchObject({ status: 500, method: 'PUT' });
  });
});
