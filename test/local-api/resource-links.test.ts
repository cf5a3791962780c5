import { describe, expect, it } from 'vitest';
import type { LocalApi } from '../../src/local-api/index.js';
import { call, configStore, kvStore, secretStore, startApi } from './helpers.js';

interface LinkBody {
  id: string;
  name: string;
  resource_id: string;
  resource_type: string;
  service_id: string;
  version: number;
}

/** Creates a Compute service and returns its id. */
async function serviceId(api: LocalApi, name = 'tsk-local'): Promise<string> {
  const res = await call(api, 'POST', '/service', { form: { name, type: 'wasm' } });
  return (res.body as { id: string }).id;
}

const links = (id: string, v: number): string => `/service/${id}/version/${v}/resource`;

async function link(api: LocalApi, id: string, v: number, form: Record<string, string>) {
  return call(api, 'POST', links(id, v), { form });
}

describe('local API: resource links', () => {
  it('links config, secret and KV stores to a version, shaped as Fastly answers them', async () => {
    const api = await startApi();
    const id = await serviceId(api);
    const config = await configStore(api);
    const secret = await secretStore(api);
    const kv = await kvStore(api);
    const made = await link(api, id, 1, { resource_id: config, name: 'jwks_store' });
    expect(made.status).toBe(200);
    const body = made.body as LinkBody;
    expect(body.id).toMatch(/^[A-Za-z0-9]{22}$/);
    expect(body).toMatchObject({
      name: 'jwks_store',
      service_id: id,
      version: 1,
      resource_id: config,
      resource_type: 'config',
      deleted_at: null,
      href: null,
    });
    // Without a name, or with an empty one (what Fastly's CLI sends), a link takes the store's name.
    await link(api, id, 1, { resource_id: secret, name: '' });
    const kvLink = await link(api, id, 1, { resource_id: kv });
    expect(kvLink.body).toMatchObject({ name: 'keyring_locks', resource_type: 'object-store' });
    const listed = (await call(api, 'GET', links(id, 1))).body as LinkBody[];
    expect(listed.map((l) => [l.name, l.resource_type])).toEqual([
      ['jwks_store', 'config'],
      ['signing_keys', 'secret-store'],
      ['keyring_locks', 'object-store'],
    ]);
    expect((await call(api, 'GET', `${links(id, 1)}/${body.id}`)).body).toEqual(body);
    // The store now names the service among its users.
    const users = await call(api, 'GET', `/resources/stores/config/${config}/services`);
    expect(users.body).toEqual([expect.objectContaining({ id, name: 'tsk-local' })]);
  });

  it('refuses a resource_id that names no store, a missing one, and a bad name', async () => {
    const api = await startApi();
    const id = await serviceId(api);
    const config = await configStore(api);
    const none = await link(api, id, 1, { resource_id: 'NoSuchStore0000000000000', name: 'x' });
    expect(none.status).toBe(400);
    expect((none.body as { msg: string }).msg).toBe('Invalid resource_id');
    const missing = await link(api, id, 1, { name: 'x' });
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({ msg: 'Missing required field: resource_id' });
    const badName = await link(api, id, 1, { resource_id: config, name: 'a/b' });
    expect(badName.status).toBe(400);
    expect((await call(api, 'GET', links(id, 1))).body).toEqual([]);
    expect((await link(api, id, 7, { resource_id: config })).status).toBe(404);
    expect((await call(api, 'GET', `${links(id, 1)}/NoSuchLink00000000000000`)).status).toBe(404);
  });

  it('keeps names (and linked stores) unique per version: 409, but another version may reuse them', async () => {
    const api = await startApi();
    const id = await serviceId(api);
    const config = await configStore(api);
    const other = await configStore(api, 'other_store');
    await link(api, id, 1, { resource_id: config, name: 'jwks_store' });
    const sameName = await link(api, id, 1, { resource_id: other, name: 'jwks_store' });
    expect(sameName.status).toBe(409);
    const sameStore = await link(api, id, 1, { resource_id: config, name: 'again' });
    expect(sameStore.status).toBe(409);
    const second = await serviceId(api, 'second');
    expect((await link(api, second, 1, { resource_id: config, name: 'jwks_store' })).status).toBe(
      200,
    );
  });

  it('renames and deletes links of an editable version only; a locked one answers 422', async () => {
    const api = await startApi();
    const id = await serviceId(api);
    const config = await configStore(api);
    const secret = await secretStore(api);
    const made = (await link(api, id, 1, { resource_id: config, name: 'jwks_store' }))
      .body as LinkBody;
    await link(api, id, 1, { resource_id: secret, name: 'signing_keys' });
    const path = `${links(id, 1)}/${made.id}`;
    const renamed = await call(api, 'PUT', path, { form: { name: 'jwks' } });
    expect(renamed.body).toMatchObject({ id: made.id, name: 'jwks', resource_id: config });
    const clash = await call(api, 'PUT', path, { form: { name: 'signing_keys' } });
    expect(clash.status).toBe(409);

    await call(api, 'PUT', `/service/${id}/version/1/activate`);
    const locked = { msg: 'Version locked', detail: `Version '1' for service '${id}' is locked` };
    const put = await call(api, 'PUT', path, { form: { name: 'other' } });
    expect([put.status, put.body]).toEqual([422, locked]);
    const del = await call(api, 'DELETE', path);
    expect([del.status, del.body]).toEqual([422, locked]);
    const add = await link(api, id, 1, { resource_id: await kvStore(api), name: 'kv' });
    expect([add.status, add.body]).toEqual([422, locked]);

    // A clone carries the links over, editable again; the active version keeps its own.
    await call(api, 'PUT', `/service/${id}/version/1/clone`);
    const deleted = await call(api, 'DELETE', `${links(id, 2)}/${made.id}`);
    expect(deleted.body).toEqual({ status: 'ok' });
    const names = (v: number) =>
      call(api, 'GET', links(id, v)).then((r) => (r.body as LinkBody[]).map((l) => l.name));
    expect(await names(2)).toEqual(['signing_keys']);
    expect(await names(1)).toEqual(['jwks', 'signing_keys']);
  });
});
