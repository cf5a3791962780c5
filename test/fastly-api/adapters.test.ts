import { describe, expect, it } from 'vitest';
import { TskError } from '../../src/core/errors.js';
import { keyStoreApi, leaseStoreApi } from '../../src/fastly-api/index.js';
import { apiWith, json, rejectionOf } from './fake-fetch.js';

const IDS = { configStoreId: 'cs1', secretStoreId: 'ss1' };

describe('keyStoreApi', () => {
  it('reads every config item into a Map', async () => {
    const { api } = apiWith(() =>
      json([
        { item_key: 'current-kid', item_value: 'k1' },
        { item_key: 'k1', item_value: '{"kty":"OKP"}' },
      ]),
    );
    const items = await keyStoreApi(api, IDS).readConfigItems();
    expect(items).toEqual(
      new Map([
        ['current-kid', 'k1'],
        ['k1', '{"kty":"OKP"}'],
      ]),
    );
  });

  it('patches config items in one bulk request to the config store', async () => {
    const { api, calls } = apiWith(() => json({ status: 'ok' }));
    await keyStoreApi(api, IDS).patchConfigItems([
      { op: 'upsert', key: 'current-kid', value: 'k2' },
      { op: 'delete', key: 'k0' },
    ]);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.method).toBe('PATCH');
    expect(calls[0]?.url.pathname).toBe('/resources/stores/config/cs1/items');
  });

  it('creates secrets with POST, so an existing name fails with secret_exists', async () => {
    const { api, calls } = apiWith((req) =>
      req.method === 'POST'
        ? json({ msg: 'Bad Request', detail: 'duplicate: name' }, 400)
        : json({ name: 'k1', digest: 'd', created_at: 't' }),
    );
    const err = await rejectionOf(keyStoreApi(api, IDS).createSecret('k1', 'seed'));
    expect(err).toBeInstanceOf(TskError);
    expect((err as TskError).code).toBe('secret_exists');
    expect(calls[0]?.method).toBe('POST');
    expect(calls[0]?.url.pathname).toBe('/resources/stores/secret/ss1/secrets');
  });

  it('deletes secrets and lists their names from the secret store', async () => {
    const { api, calls } = apiWith((req) =>
      req.method === 'DELETE'
        ? json({ msg: 'Record not found' }, 404)
        : json({ data: [{ name: 'k1', digest: 'd', created_at: 't' }], meta: { limit: 200 } }),
    );
    const port = keyStoreApi(api, IDS);
    await expect(port.deleteSecret('k9')).resolves.toBe(false);
    await expect(port.listSecretNames()).resolves.toEqual(['k1']);
    expect(calls[0]?.url.pathname).toBe('/resources/stores/secret/ss1/secrets/k9');
  });
});

describe('leaseStoreApi', () => {
  it('gets the value and generation without metadata, or null', async () => {
    const { api } = apiWith((req) =>
      req.url.pathname.endsWith('/default')
        ? new Response('lease', { headers: { Generation: '9007199254740993', Metadata: 'm' } })
        : new Response('', { status: 404 }),
    );
    const port = leaseStoreApi(api, 'kv1');
    await expect(port.get('default')).resolves.toEqual({
      value: 'lease',
      generation: '9007199254740993',
    });
    await expect(port.get('other')).resolves.toBeNull();
  });

  it('adds with ?add=true, replaces and removes with if-generation-match', async () => {
    const answers = [
      new Response('', { status: 200 }),
      new Response('', { status: 412 }),
      new Response('', { status: 200 }),
      new Response(null, { status: 204 }),
      new Response(null, { status: 412 }),
    ];
    const { api, calls } = apiWith(() => answers.shift() ?? new Response('', { status: 500 }));
    const port = leaseStoreApi(api, 'kv1');
    await expect(port.add('default', 'a')).resolves.toBe(true);
    await expect(port.add('default', 'b')).resolves.toBe(false);
    await expect(port.replace('default', 'c', '1')).resolves.toBe(true);
    await expect(port.remove('default', '2')).resolves.toBe(true);
    await expect(port.remove('default', '2')).resolves.toBe(false);
    expect(
      calls.map((c) => [c.method, c.url.search, c.headers.get('if-generation-match')]),
    ).toEqual([
      ['PUT', '?add=true', null],
      ['PUT', '?add=true', null],
      ['PUT', '', '1'],
      ['DELETE', '', '2'],
      ['DELETE', '', '2'],
    ]);
  });
});
