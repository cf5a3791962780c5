import { describe, expect, it } from 'vitest';
import { TskError } from '../../src/core/errors.js';
import { apiWith, json, rejectionOf } from './fake-fetch.js';

const SEED_B64 = 'nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=';

function secret(name: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    digest: 'SKTSAkzwXu2F+TWFMKAaBQugOr7Ywiy9JwzSG4kklf4=',
    created_at: '2022-11-28T22:40:39Z',
    ...extra,
  };
}

describe('secret stores', () => {
  it('creates a store with a JSON name', async () => {
    const { api, calls } = apiWith(() =>
      json({ id: 'ss1', name: 'signing_keys', created_at: 'x' }),
    );
    await expect(api.createSecretStore('signing_keys')).resolves.toEqual({
      id: 'ss1',
      name: 'signing_keys',
    });
    expect(calls[0]?.method).toBe('POST');
    expect(calls[0]?.url.pathname).toBe('/resources/stores/secret');
    expect(calls[0]?.headers.get('Content-Type')).toBe('application/json');
    expect(JSON.parse(calls[0]?.body ?? '')).toEqual({ name: 'signing_keys' });
  });

  it('lists stores across pages, passing name and cursor', async () => {
    const { api, calls } = apiWith((req) =>
      req.url.searchParams.get('cursor') === 'c2'
        ? json({ data: [{ id: 'b', name: 'n' }], meta: { limit: 1 } })
        : json({ data: [{ id: 'a', name: 'n' }], meta: { limit: 1, next_cursor: 'c2' } }),
    );
    await expect(api.listSecretStores('n')).resolves.toEqual([
      { id: 'a', name: 'n' },
      { id: 'b', name: 'n' },
    ]);
    expect(calls.map((c) => c.url.search)).toEqual(['?name=n', '?name=n&cursor=c2']);
  });

  it.each([
    ['create', 'POST'],
    ['upsert', 'PUT'],
    ['recreate', 'PATCH'],
  ] as const)(
    'puts a secret in mode %s with %s and base64 of the UTF-8 bytes',
    async (mode, method) => {
      const { api, calls } = apiWith(() =>
        json(secret('kid-1', mode === 'create' ? {} : { recreated: true })),
      );
      const result = await api.putSecret('ss/1', 'kid-1', SEED_B64, mode);
      expect(result).toEqual({ ...secret('kid-1'), recreated: mode !== 'create' });
      const [call] = calls;
      expect(call?.method).toBe(method);
      expect(call?.url.pathname).toBe('/resources/stores/secret/ss%2F1/secrets');
      expect(call?.headers.get('Content-Type')).toBe('application/json');
      const body = JSON.parse(call?.body ?? '') as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(['name', 'secret']);
      expect(body['name']).toBe('kid-1');
      // Trusted Server stores the 44-char base64 seed as the secret's text; the API gets base64 of that.
      expect(body['secret']).toBe(btoa(SEED_B64));
    },
  );

  it('encodes binary and non-ASCII plaintexts byte for byte', async () => {
    const { api, calls } = apiWith(() => json(secret('s')));
    await api.putSecret('ss1', 's', new Uint8Array([0, 255, 128, 10]), 'upsert');
    await api.putSecret('ss1', 's', 'é€', 'upsert');
    const sent = calls.map((c) => (JSON.parse(c.body) as { secret: string }).secret);
    expect(sent).toEqual(['AP+ACg==', btoa(String.fromCharCode(0xc3, 0xa9, 0xe2, 0x82, 0xac))]);
  });

  it("turns Fastly's 400 duplicate answer to a POST into secret_exists", async () => {
    const { api } = apiWith(() => json({ msg: 'Bad Request', detail: 'duplicate: name' }, 400));
    const err = await rejectionOf(api.putSecret('ss1', 'kid-1', 'x', 'create'));
    expect(err).toBeInstanceOf(TskError);
    expect((err as TskError).code).toBe('secret_exists');
    expect((err as TskError).details).toMatchObject({ status: 400, method: 'POST', name: 'kid-1' });
  });

  it('turns a 409 to a POST into secret_exists as well', async () => {
    const { api } = apiWith(() => json({ msg: 'Conflict' }, 409));
    const err = await rejectionOf(api.putSecret('ss1', 'kid-1', 'x', 'create'));
    expect((err as TskError).code).toBe('secret_exists');
  });

  it('keeps any other 400 an upstream_failed', async () => {
    const { api } = apiWith(() => json({ msg: 'Bad Request', detail: 'invalid: name' }, 400));
    const err = await rejectionOf(api.putSecret('ss1', 'bad name', 'x', 'create'));
    expect((err as TskError).code).toBe('upstream_failed');
    expect((err as TskError).message).toBe(
      'Fastly API answered 400 to POST /resources/stores/secret/ss1/secrets: Bad Request (invalid: name)',
    );
  });

  it('deletes a secret: true on 204, false on 404', async () => {
    const { api, calls } = apiWith((req) =>
      req.url.pathname.endsWith('/gone')
        ? json({ msg: 'Record not found' }, 404)
        : new Response(null, { status: 204 }),
    );
    await expect(api.deleteSecret('ss1', 'kid-1')).resolves.toBe(true);
    await expect(api.deleteSecret('ss1', 'gone')).resolves.toBe(false);
    expect(calls[0]?.method).toBe('DELETE');
    expect(calls[0]?.url.pathname).toBe('/resources/stores/secret/ss1/secrets/kid-1');
  });

  it('lists secrets 200 at a time, following meta.next_cursor', async () => {
    const names = Array.from({ length: 450 }, (_, i) => `kid-${i}`);
    const { api, calls } = apiWith((req) => {
      const start = Number(req.url.searchParams.get('cursor') ?? '0');
      const limit = Number(req.url.searchParams.get('limit'));
      const next = start + limit < names.length ? String(start + limit) : undefined;
      return json({
        data: names.slice(start, start + limit).map((n) => secret(n)),
        meta: next === undefined ? { limit } : { limit, next_cursor: next },
      });
    });
    const listed = await api.listSecrets('ss1');
    expect(listed.map((s) => s.name)).toEqual(names);
    expect(listed[0]).toEqual(secret('kid-0'));
    expect(calls.map((c) => c.url.search)).toEqual([
      '?limit=200',
      '?limit=200&cursor=200',
      '?limit=200&cursor=400',
    ]);
  });

  it('stops with upstream_failed when the API repeats a cursor', async () => {
    const { api } = apiWith(() => json({ data: [], meta: { next_cursor: 'same' } }));
    const err = await rejectionOf(api.listSecrets('ss1'));
    expect((err as TskError).code).toBe('upstream_failed');
  });
});
