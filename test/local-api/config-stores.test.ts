import { describe, expect, it } from 'vitest';
import { call, configStore, startApi } from './helpers.js';

const ISO_SECONDS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

describe('local API: config stores', () => {
  it('creates a store from a form and answers the store object Fastly answers', async () => {
    const api = await startApi();
    const res = await call(api, 'POST', '/resources/stores/config', {
      form: { name: 'jwks_store' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const store = res.body as Record<string, unknown>;
    expect(Object.keys(store)).toEqual(['name', 'id', 'created_at', 'updated_at', 'deleted_at']);
    expect(store['name']).toBe('jwks_store');
    expect(store['id']).toMatch(/^[A-Za-z0-9]{22}$/);
    expect(store['created_at']).toMatch(ISO_SECONDS);
    expect(store['deleted_at']).toBeNull();
  });

  it('lists stores newest first as a plain array, filtered by ?name=', async () => {
    const api = await startApi();
    const first = await configStore(api, 'first');
    const second = await configStore(api, 'second');
    const all = await call(api, 'GET', '/resources/stores/config');
    expect((all.body as { id: string }[]).map((s) => s.id)).toEqual([second, first]);
    const named = await call(api, 'GET', '/resources/stores/config?name=first');
    expect(named.body).toEqual([expect.objectContaining({ id: first, name: 'first' })]);
    expect((await call(api, 'GET', '/resources/stores/config?name=none')).body).toEqual([]);
  });

  it('describes, renames and deletes a store; a deleted store is 404 Record not found', async () => {
    const api = await startApi();
    const id = await configStore(api, 'before');
    expect((await call(api, 'GET', `/resources/stores/config/${id}`)).body).toMatchObject({
      id,
      name: 'before',
    });
    const renamed = await call(api, 'PUT', `/resources/stores/config/${id}`, {
      form: { name: 'after' },
    });
    expect(renamed.body).toMatchObject({ id, name: 'after' });
    expect(api.state.findConfigStore('after')).toEqual({ id, name: 'after' });
    const deleted = await call(api, 'DELETE', `/resources/stores/config/${id}`);
    expect(deleted).toMatchObject({ status: 200, body: { status: 'ok' } });
    const gone = await call(api, 'GET', `/resources/stores/config/${id}`);
    expect(gone).toMatchObject({ status: 404, body: { msg: 'Record not found' } });
    expect(api.state.findConfigStore('after')).toBeUndefined();
  });

  it('accepts names the API accepts (dashes included) but refuses a duplicate name with 409', async () => {
    const api = await startApi();
    await configStore(api, 'TestClient_ListConfigStores-00');
    const dup = await call(api, 'POST', '/resources/stores/config', {
      form: { name: 'TestClient_ListConfigStores-00' },
    });
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ msg: 'Conflict' });
  });

  it('refuses a missing name, and a JSON body where Fastly expects a form, with 400', async () => {
    const api = await startApi();
    const missing = await call(api, 'POST', '/resources/stores/config', { form: {} });
    expect(missing).toMatchObject({ status: 400, body: { msg: 'Missing required field: name' } });
    const asJson = await call(api, 'POST', '/resources/stores/config', { json: { name: 'x' } });
    expect(asJson.status).toBe(400);
  });

  it('answers the store metadata and its (empty) list of linked services', async () => {
    const api = await startApi();
    const id = await configStore(api);
    await call(api, 'PUT', `/resources/stores/config/${id}/item/a`, { form: { item_value: '1' } });
    expect((await call(api, 'GET', `/resources/stores/config/${id}/info`)).body).toEqual({
      item_count: 1,
    });
    expect((await call(api, 'GET', `/resources/stores/config/${id}/services`)).body).toEqual([]);
  });
});
