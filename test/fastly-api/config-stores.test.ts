import { describe, expect, it } from 'vitest';
import { TskError } from '../../src/core/errors.js';
import type { ConfigItemOp } from '../../src/core/ports.js';
import { apiWith, json, rejectionOf } from './fake-fetch.js';

const STORE = {
  id: 'pS86koqiZWkt6VJgvNuUe3',
  name: 'jwks_store',
  created_at: '2023-03-01T22:12:20Z',
  updated_at: '2023-03-01T22:12:20Z',
  deleted_at: null,
};

function item(key: string, value: string) {
  return {
    store_id: STORE.id,
    item_key: key,
    item_value: value,
    created_at: '2023-03-02T16:24:02Z',
    updated_at: '2023-03-02T16:24:02Z',
    deleted_at: null,
  };
}

describe('config stores', () => {
  it('creates a store with a form-encoded name', async () => {
    const { api, calls } = apiWith(() => json(STORE));
    await expect(api.createConfigStore('jwks_store')).resolves.toEqual({
      id: STORE.id,
      name: 'jwks_store',
    });
    expect(calls[0]?.method).toBe('POST');
    expect(calls[0]?.url.pathname).toBe('/resources/stores/config');
    expect(calls[0]?.headers.get('Content-Type')).toBe('application/x-www-form-urlencoded');
    expect(calls[0]?.body).toBe('name=jwks_store');
  });

  it('lists stores, filtering by name through the query', async () => {
    const { api, calls } = apiWith(() => json([STORE]));
    await expect(api.listConfigStores('jwks_store')).resolves.toEqual([
      { id: STORE.id, name: 'jwks_store' },
    ]);
    expect(calls[0]?.url.search).toBe('?name=jwks_store');
    await api.listConfigStores();
    expect(calls[1]?.url.search).toBe('');
  });

  it('lists items from the plain array answer as key/value pairs', async () => {
    const { api, calls } = apiWith(() =>
      json([item('current-kid', 'k1'), item('active-kids', 'k1,k2')]),
    );
    await expect(api.listConfigItems(STORE.id)).resolves.toEqual([
      { key: 'current-kid', value: 'k1' },
      { key: 'active-kids', value: 'k1,k2' },
    ]);
    expect(calls[0]?.method).toBe('GET');
    expect(calls[0]?.url.pathname).toBe(`/resources/stores/config/${STORE.id}/items`);
  });

  it('gets one item, and null on 404', async () => {
    const { api, calls } = apiWith((req) =>
      req.url.pathname.endsWith('/item/present')
        ? json(item('present', 'yes'))
        : json({ msg: 'Record not found' }, 404),
    );
    await expect(api.getConfigItem(STORE.id, 'present')).resolves.toBe('yes');
    await expect(api.getConfigItem(STORE.id, 'absent')).resolves.toBeNull();
    expect(calls.map((c) => c.method)).toEqual(['GET', 'GET']);
  });

  it('upserts with PUT and a form-encoded item_value, special characters intact', async () => {
    const value = 'a&b=c+d %e\n{"kty":"OKP"}';
    const { api, calls } = apiWith(() => json(item('k/1', value)));
    await api.upsertConfigItem(STORE.id, 'k/1', value);
    const [call] = calls;
    expect(call?.method).toBe('PUT');
    expect(call?.url.pathname).toBe(`/resources/stores/config/${STORE.id}/item/k%2F1`);
    expect(call?.headers.get('Content-Type')).toBe('application/x-www-form-urlencoded');
    expect(call?.body).toBe('item_value=a%26b%3Dc%2Bd+%25e%0A%7B%22kty%22%3A%22OKP%22%7D');
    expect(new URLSearchParams(call?.body).get('item_value')).toBe(value);
  });

  it('deletes an item: true on 200, false on 404', async () => {
    const { api, calls } = apiWith((req) =>
      req.url.pathname.endsWith('/gone')
        ? json({ msg: 'Record not found' }, 404)
        : json({ status: 'ok' }),
    );
    await expect(api.deleteConfigItem(STORE.id, 'there')).resolves.toBe(true);
    await expect(api.deleteConfigItem(STORE.id, 'gone')).resolves.toBe(false);
    expect(calls[0]?.method).toBe('DELETE');
  });

  it('sends a bulk update as one JSON PATCH, in order, with an empty item_value on deletes', async () => {
    const { api, calls } = apiWith(() => json({ status: 'ok' }));
    const ops: ConfigItemOp[] = [
      { op: 'create', key: 'k2', value: '{"kty":"OKP","x":"a+b/c="}' },
      { op: 'upsert', key: 'active-kids', value: 'k1,k2' },
      { op: 'update', key: 'current-kid', value: 'k2' },
      { op: 'delete', key: 'k0' },
    ];
    await api.bulkUpdateConfigItems(STORE.id, ops);
    const [call] = calls;
    expect(call?.method).toBe('PATCH');
    expect(call?.url.pathname).toBe(`/resources/stores/config/${STORE.id}/items`);
    expect(call?.headers.get('Content-Type')).toBe('application/json');
    expect(JSON.parse(call?.body ?? '')).toEqual({
      items: [
        { op: 'create', item_key: 'k2', item_value: '{"kty":"OKP","x":"a+b/c="}' },
        { op: 'upsert', item_key: 'active-kids', item_value: 'k1,k2' },
        { op: 'update', item_key: 'current-kid', item_value: 'k2' },
        { op: 'delete', item_key: 'k0', item_value: '' },
      ],
    });
  });

  it('refuses more than 1,000 bulk operations without sending anything', async () => {
    const { api, calls } = apiWith(() => json({ status: 'ok' }));
    const ops: ConfigItemOp[] = Array.from({ length: 1001 }, (_, i) => ({
      op: 'delete',
      key: `k${i}`,
    }));
    const err = await rejectionOf(api.bulkUpdateConfigItems(STORE.id, ops));
    expect(err).toBeInstanceOf(TskError);
    expect((err as TskError).code).toBe('invalid_request');
    expect((err as TskError).details).toEqual({ operations: 1001, max: 1000 });
    expect(calls).toHaveLength(0);
    await api.bulkUpdateConfigItems(STORE.id, ops.slice(0, 1000));
    expect(calls).toHaveLength(1);
  });

  it('sends nothing for an empty bulk update', async () => {
    const { api, calls } = apiWith(() => json({ status: 'ok' }));
    await api.bulkUpdateConfigItems(STORE.id, []);
    expect(calls).toHaveLength(0);
  });
});
