import { describe, expect, it } from 'vitest';
import { TskError } from '../../src/core/errors.js';
import { CLIENT_KEYS, apiWith, json, rejectionOf } from './fake-fetch.js';

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
    'puts a secret in mode %s with %s, sealed to a signed client key',
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
      expect(Object.keys(body).sort()).toEqual(['client_key', 'name', 'secret']);
      expect(body['name']).toBe('kid-1');
      // Neither the seed text nor its base64 travels in the clear.
      expect(call?.body).not.toContain(SEED_B64);
      expect(call?.body).not.toContain(btoa(SEED_B64));
      // Trusted Server stores the 44-char base64 seed as the secret's text.
      const opened = CLIENT_KEYS.open(call?.body ?? '');
      expect(new TextDecoder().decode(opened.plaintext)).toBe(SEED_B64);
    },
  );

  it('encodes binary and non-ASCII plaintexts byte for byte', async () => {
    const { api, calls } = apiWith(() => json(secret('s')));
    await api.putSecret('ss1', 's', new Uint8Array([0, 255, 128, 10]), 'upsert');
    await api.putSecret('ss1', 's', 'é€', 'upsert');
    const sent = calls.map((c) => [...CLIENT_KEYS.open(c.body).plaintext]);
    expect(sent).toEqual([
      [0, 255, 128, 10],
      [0xc3, 0xa9, 0xe2, 0x82, 0xac],
    ]);
  });

  // go-fastly-shaped refusals of a create, and one in words nobody has seen: the wording is
  // never read; whether the secret exists is asked.
  it.each([
    ['400 duplicate: name', 400, { msg: 'Bad Request', detail: 'duplicate: name' }],
    ['409 Conflict', 409, { msg: 'Conflict' }],
    ['an unknown wording', 422, { errors: [{ title: 'Unprocessable', detail: 'nom déjà pris' }] }],
  ] as const)(
    'turns %s to a POST into secret_exists when the secret exists',
    async (_w, status, body) => {
      const { api, calls } = apiWith((req) =>
        req.method === 'POST' ? json(body, status) : json(secret('kid-1')),
      );
      const err = await rejectionOf(api.putSecret('ss1', 'kid-1', 'x', 'create'));
      expect(err).toBeInstanceOf(TskError);
      expect((err as TskError).code).toBe('secret_exists');
      expect((err as TskError).details).toMatchObject({
        status,
        method: 'POST',
        name: 'kid-1',
        outcome: 'refused',
      });
      expect(calls.map((c) => [c.method, c.url.pathname])).toEqual([
        ['POST', '/resources/stores/secret/ss1/secrets'],
        ['GET', '/resources/stores/secret/ss1/secrets/kid-1'],
      ]);
    },
  );

  it('keeps a refusal whose secret does not exist the original upstream_failed, even if it says duplicate', async () => {
    const { api, calls } = apiWith((req) =>
      req.method === 'POST'
        ? json({ msg: 'Bad Request', detail: 'duplicate: name' }, 400)
        : json({ msg: 'Record not found' }, 404),
    );
    const err = await rejectionOf(api.putSecret('ss1', 'kid-1', 'x', 'create'));
    expect((err as TskError).code).toBe('upstream_failed');
    expect((err as TskError).message).toBe(
      'Fastly API answered 400 to POST /resources/stores/secret/ss1/secrets: Bad Request (duplicate: name)',
    );
    expect(calls.map((c) => c.method)).toEqual(['POST', 'GET']);
  });

  it('never describes (or deletes) after a 5xx, a 429 or a rejected token, nor for upsert', async () => {
    for (const status of [500, 429, 401, 403]) {
      const { api, calls } = apiWith(() => json({ msg: 'no' }, status));
      await rejectionOf(api.putSecret('ss1', 'kid-1', 'x', 'create'));
      expect(calls.map((c) => c.method)).toEqual(['POST']);
    }
    const { api, calls } = apiWith(() => json({ msg: 'Bad Request' }, 400));
    await rejectionOf(api.putSecret('ss1', 'kid-1', 'x', 'upsert'));
    expect(calls.map((c) => c.method)).toEqual(['PUT']);
  });

  it('keeps the original error when describing fails too', async () => {
    const { api } = apiWith((req) =>
      req.method === 'POST' ? json({ msg: 'Bad Request' }, 400) : json({ msg: 'down' }, 503),
    );
    const err = await rejectionOf(api.putSecret('ss1', 'kid-1', 'x', 'create'));
    expect((err as TskError).code).toBe('upstream_failed');
    expect((err as TskError).details).toMatchObject({ status: 400 });
  });

  it('describes a secret: metadata, or null on 404', async () => {
    const { api } = apiWith((req) =>
      req.url.pathname.endsWith('/gone')
        ? json({ msg: 'Record not found' }, 404)
        : json(secret('k')),
    );
    await expect(api.describeSecret('ss1', 'k')).resolves.toEqual(secret('k'));
    await expect(api.describeSecret('ss1', 'gone')).resolves.toBeNull();
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
