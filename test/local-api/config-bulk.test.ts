import { describe, expect, it } from 'vitest';
import { call, configStore, startApi } from './helpers.js';

describe('local API: bulk config item updates', () => {
  it('applies create, update, upsert and delete operations in order and answers status ok', async () => {
    const api = await startApi();
    const id = await configStore(api);
    const patch = (items: unknown[]) =>
      call(api, 'PATCH', `/resources/stores/config/${id}/items`, { json: { items } });
    const first = await patch([
      { op: 'create', item_key: 'key1', item_value: 'value1' },
      { op: 'upsert', item_key: 'key2', item_value: 'value2' },
    ]);
    expect(first).toMatchObject({ status: 200, body: { status: 'ok' } });
    await patch([
      { op: 'update', item_key: 'key1', item_value: 'value2' },
      { op: 'upsert', item_key: 'key2', item_value: 'value3' },
      { op: 'create', item_key: 'key3', item_value: 'temp' },
      { op: 'delete', item_key: 'key3', item_value: '' },
    ]);
    expect(api.state.configItem(id, 'key1')).toBe('value2');
    expect(api.state.configItem(id, 'key2')).toBe('value3');
    expect(api.state.configItem(id, 'key3')).toBeNull();
  });

  it('changes nothing when the third operation of a batch is invalid', async () => {
    const api = await startApi();
    const id = await configStore(api);
    await call(api, 'PUT', `/resources/stores/config/${id}/item/existing`, {
      form: { item_value: 'old' },
    });
    const res = await call(api, 'PATCH', `/resources/stores/config/${id}/items`, {
      json: {
        items: [
          { op: 'upsert', item_key: 'existing', item_value: 'new' },
          { op: 'create', item_key: 'fresh', item_value: 'v' },
          { op: 'update', item_key: 'missing', item_value: 'v' },
          { op: 'create', item_key: 'later', item_value: 'v' },
        ],
      },
    });
    expect(res.status).toBe(404);
    expect((res.body as { msg: string }).msg).toMatch(/^items\[2\] \(update "missing"\)/);
    expect(api.state.configItem(id, 'existing')).toBe('old');
    expect(api.state.configItem(id, 'fresh')).toBeNull();
    expect(api.state.configItem(id, 'later')).toBeNull();
  });

  it('validates each operation against the batch so far (create after create is refused)', async () => {
    const api = await startApi();
    const id = await configStore(api);
    const res = await call(api, 'PATCH', `/resources/stores/config/${id}/items`, {
      json: {
        items: [
          { op: 'create', item_key: 'k', item_value: '1' },
          { op: 'create', item_key: 'k', item_value: '2' },
        ],
      },
    });
    expect(res.status).toBe(409);
    expect(api.state.configItem(id, 'k')).toBeNull();
  });

  it('refuses malformed batches with 400: bad JSON, unknown op, over-long value, > 1000 ops', async () => {
    const api = await startApi();
    const id = await configStore(api);
    const path = `/resources/stores/config/${id}/items`;
    const badJson = await call(api, 'PATCH', path, {
      raw: '{"items":[',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(badJson).toMatchObject({
      status: 400,
      body: { msg: 'Malformed JSON in the request body' },
    });
    const badOp = await call(api, 'PATCH', path, {
      json: { items: [{ op: 'merge', item_key: 'k', item_value: 'v' }] },
    });
    expect(badOp.status).toBe(400);
    const tooLong = await call(api, 'PATCH', path, {
      json: {
        items: [
          { op: 'upsert', item_key: 'ok', item_value: 'v' },
          { op: 'upsert', item_key: 'k', item_value: 'x'.repeat(8001) },
        ],
      },
    });
    expect(tooLong.status).toBe(400);
    expect(api.state.configItem(id, 'ok')).toBeNull();
    const items = Array.from({ length: 1001 }, (_, i) => ({
      op: 'delete',
      item_key: `k${i}`,
    }));
    expect((await call(api, 'PATCH', path, { json: { items } })).status).toBe(400);
  });

  it('applies 50 parallel bulk updates without losing any', async () => {
    const api = await startApi();
    const id = await configStore(api);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        call(api, 'PATCH', `/resources/stores/config/${id}/items`, {
          json: {
            items: [
              { op: 'create', item_key: `key-${i}`, item_value: String(i) },
              { op: 'upsert', item_key: 'last-writer', item_value: String(i) },
            ],
          },
        }),
      ),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    const list = await call(api, 'GET', `/resources/stores/config/${id}/items`);
    expect(list.body as unknown[]).toHaveLength(51);
    for (let i = 0; i < 50; i++) expect(api.state.configItem(id, `key-${i}`)).toBe(String(i));
  });
});
