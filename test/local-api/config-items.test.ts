import { describe, expect, it } from 'vitest';
import { call, configStore, startApi } from './helpers.js';

describe('local API: config store items', () => {
  it('creates, reads, updates, upserts, lists and deletes items with Fastly’s shapes', async () => {
    const api = await startApi();
    const id = await configStore(api);
    const base = `/resources/stores/config/${id}`;
    const created = await call(api, 'POST', `${base}/item`, {
      form: { item_key: 'current-kid', item_value: 'kid-1', StoreID: id },
    });
    expect(created.status).toBe(200);
    const item = created.body as Record<string, unknown>;
    expect(Object.keys(item)).toEqual([
      'item_key',
      'item_value',
      'created_at',
      'updated_at',
      'deleted_at',
      'store_id',
    ]);
    expect(item).toMatchObject({ item_key: 'current-kid', item_value: 'kid-1', store_id: id });

    const updated = await call(api, 'PATCH', `${base}/item/current-kid`, {
      form: { item_value: 'kid-2' },
    });
    expect(updated.body).toMatchObject({ item_value: 'kid-2', created_at: item['created_at'] });
    await call(api, 'PUT', `${base}/item/active-kids`, { form: { item_value: 'kid-1,kid-2' } });
    expect(api.state.configItem(id, 'active-kids')).toBe('kid-1,kid-2');

    const list = await call(api, 'GET', `${base}/items`);
    expect((list.body as { item_key: string }[]).map((i) => i.item_key)).toEqual([
      'active-kids',
      'current-kid',
    ]);

    const deleted = await call(api, 'DELETE', `${base}/item/current-kid`);
    expect(deleted).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(api.state.configItem(id, 'current-kid')).toBeNull();
    const gone = await call(api, 'GET', `${base}/item/current-kid`);
    expect(gone).toMatchObject({ status: 404, body: { msg: 'Record not found' } });
  });

  it('percent-decodes keys in paths, including an encoded slash', async () => {
    const api = await startApi();
    const id = await configStore(api);
    const key = 'a/b c?d%é';
    const put = await call(
      api,
      'PUT',
      `/resources/stores/config/${id}/item/${encodeURIComponent(key)}`,
      {
        form: { item_value: 'v' },
      },
    );
    expect(put.body).toMatchObject({ item_key: key });
    expect(api.state.configItem(id, key)).toBe('v');
    const got = await call(
      api,
      'GET',
      `/resources/stores/config/${id}/item/${encodeURIComponent(key)}`,
    );
    expect(got.body).toMatchObject({ item_key: key, item_value: 'v' });
    const bad = await call(api, 'GET', `/resources/stores/config/${id}/item/%E0%A4%A`);
    expect(bad.status).toBe(400);
  });

  it('answers 404 to an update of a missing item and 409 to a second create', async () => {
    const api = await startApi();
    const id = await configStore(api);
    const base = `/resources/stores/config/${id}`;
    const update = await call(api, 'PATCH', `${base}/item/nope`, { form: { item_value: 'x' } });
    expect(update).toMatchObject({ status: 404, body: { msg: 'Record not found' } });
    await call(api, 'POST', `${base}/item`, { form: { item_key: 'k', item_value: '1' } });
    const again = await call(api, 'POST', `${base}/item`, {
      form: { item_key: 'k', item_value: '2' },
    });
    expect(again.status).toBe(409);
    expect(api.state.configItem(id, 'k')).toBe('1');
    expect((await call(api, 'DELETE', `${base}/item/nope`)).status).toBe(404);
  });

  it('accepts a value of exactly 8000 characters and refuses 8001 with a 400 naming the limit', async () => {
    const api = await startApi();
    const id = await configStore(api);
    const base = `/resources/stores/config/${id}/item`;
    const ok = await call(api, 'PUT', `${base}/max`, { form: { item_value: 'x'.repeat(8000) } });
    expect(ok.status).toBe(200);
    const over = await call(api, 'PUT', `${base}/over`, { form: { item_value: 'x'.repeat(8001) } });
    expect(over.status).toBe(400);
    expect((over.body as { msg: string }).msg).toMatch(/8000 characters/);
    expect(api.state.configItem(id, 'over')).toBeNull();
  });

  it('accepts a key of 255 characters and refuses 256 with a 400 naming the limit', async () => {
    const api = await startApi();
    const id = await configStore(api);
    const base = `/resources/stores/config/${id}/item`;
    const ok = await call(api, 'PUT', `${base}/${'k'.repeat(255)}`, { form: { item_value: 'v' } });
    expect(ok.status).toBe(200);
    const over = await call(api, 'POST', base, {
      form: { item_key: 'k'.repeat(256), item_value: 'v' },
    });
    expect(over.status).toBe(400);
    expect((over.body as { msg: string }).msg).toMatch(/255 characters/);
  });

  it('refuses the 501st item of a store with a 400', async () => {
    const api = await startApi();
    const id = await configStore(api);
    const items = Array.from({ length: 500 }, (_, i) => ({
      op: 'create',
      item_key: `k${i}`,
      item_value: 'v',
    }));
    const filled = await call(api, 'PATCH', `/resources/stores/config/${id}/items`, {
      json: { items },
    });
    expect(filled.status).toBe(200);
    const extra = await call(api, 'PUT', `/resources/stores/config/${id}/item/one-more`, {
      form: { item_value: 'v' },
    });
    expect(extra.status).toBe(400);
    expect((extra.body as { msg: string }).msg).toMatch(/at most 500 items/);
  });

  it('answers 404 for items of an unknown store', async () => {
    const api = await startApi();
    const res = await call(api, 'GET', '/resources/stores/config/nope/items');
    expect(res).toMatchObject({ status: 404, body: { msg: 'Record not found' } });
  });
});
