import { describe, expect, it } from 'vitest';
import type { LocalApi } from '../../src/local-api/index.js';
import { call, startApi } from './helpers.js';

interface VersionBody {
  number: number;
  active: boolean;
  locked: boolean;
  service_id: string;
}

interface ServiceBody {
  id: string;
  name: string;
  type: string;
  versions: VersionBody[];
}

/** Creates a Compute service and returns its answer. */
async function service(api: LocalApi, name = 'tsk-local'): Promise<ServiceBody> {
  const res = await call(api, 'POST', '/service', { form: { name, type: 'wasm' } });
  expect(res.status).toBe(200);
  return res.body as ServiceBody;
}

const versionPath = (id: string, n: number | string): string => `/service/${id}/version/${n}`;

describe('local API: services', () => {
  it('creates a service with an unlocked, inactive version 1, shaped as Fastly answers it', async () => {
    const api = await startApi();
    const created = await service(api);
    expect(created.id).toMatch(/^[A-Za-z0-9]{22}$/);
    expect(created).toMatchObject({
      name: 'tsk-local',
      type: 'wasm',
      comment: '',
      deleted_at: null,
      paused: false,
      versions: [
        {
          number: 1,
          active: false,
          locked: false,
          service_id: created.id,
          deleted_at: null,
          environments: [],
        },
      ],
    });
    expect((await call(api, 'GET', `/service/${created.id}`)).body).toEqual(created);
  });

  it('defaults the type to vcl, and refuses an unknown type, a missing name and a duplicate', async () => {
    const api = await startApi();
    const vcl = await call(api, 'POST', '/service', { form: { name: 'plain' } });
    expect((vcl.body as ServiceBody).type).toBe('vcl');
    const badType = await call(api, 'POST', '/service', { form: { name: 'x', type: 'edge' } });
    expect(badType.status).toBe(400);
    expect((badType.body as { msg: string }).msg).toBe('Invalid type');
    const noName = await call(api, 'POST', '/service', { form: { type: 'wasm' } });
    expect(noName.status).toBe(400);
    expect(noName.body).toEqual({ msg: 'Missing required field: name' });
    const dup = await call(api, 'POST', '/service', { form: { name: 'plain', type: 'wasm' } });
    expect(dup.status).toBe(409);
    const json = await call(api, 'POST', '/service', { json: { name: 'j' } });
    expect(json.status).toBe(400);
  });

  it('lists services a page at a time with the Link header go-fastly follows', async () => {
    const api = await startApi();
    const ids = [];
    for (const name of ['a', 'b', 'c']) ids.push((await service(api, name)).id);
    const first = await call(api, 'GET', '/service?page=1&per_page=2&sort=created');
    expect((first.body as ServiceBody[]).map((s) => s.id)).toEqual(ids.slice(0, 2));
    const link = first.headers.get('link') ?? '';
    expect(link).toContain('page=2');
    expect(link).toContain('rel="next"');
    expect(link).toContain('rel="last"');
    const second = await call(api, 'GET', '/service?page=2&per_page=2&sort=created');
    expect((second.body as ServiceBody[]).map((s) => s.id)).toEqual(ids.slice(2));
    expect(second.headers.get('link')).not.toContain('rel="next"');
    const down = await call(api, 'GET', '/service?direction=descend');
    expect((down.body as ServiceBody[]).map((s) => s.id)).toEqual([...ids].reverse());
    // The list's `version` is the current version (the recorded list shows 1 before activation).
    expect((down.body as { version: number }[])[0]?.version).toBe(1);
    expect((await call(api, 'GET', '/service?per_page=0')).status).toBe(400);
    expect((await call(api, 'GET', '/service?direction=up')).status).toBe(400);
  });

  it('finds a service by name, 404 `Record not found` when none has it', async () => {
    const api = await startApi();
    const created = await service(api);
    const found = await call(api, 'GET', '/service/search?name=tsk-local');
    expect((found.body as ServiceBody).id).toBe(created.id);
    const missing = await call(api, 'GET', '/service/search?name=nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ msg: 'Record not found' });
    expect((await call(api, 'GET', '/service/search')).status).toBe(400);
    expect((await call(api, 'GET', '/service/NoSuchService00000000000')).status).toBe(404);
  });

  it('answers details with the current version and the active one (null before activation)', async () => {
    const api = await startApi();
    const { id } = await service(api);
    const before = await call(api, 'GET', `/service/${id}/details`);
    expect(before.body).toMatchObject({
      id,
      active_version: null,
      version: { number: 1, backends: [], domains: [], healthchecks: [] },
    });
    await call(api, 'PUT', `${versionPath(id, 1)}/activate`);
    await call(api, 'PUT', `${versionPath(id, 1)}/clone`);
    const after = await call(api, 'GET', `/service/${id}/details`);
    expect(after.body).toMatchObject({
      active_version: { number: 1, active: true },
      version: { number: 1 },
    });
    const asked = await call(api, 'GET', `/service/${id}/details?version=2`);
    expect(asked.body).toMatchObject({ version: { number: 2, active: false } });
    expect((await call(api, 'GET', `/service/${id}/details?version=9`)).status).toBe(404);
  });

  it('renames a service, and deletes it only when no version is active', async () => {
    const api = await startApi();
    const { id } = await service(api);
    const renamed = await call(api, 'PUT', `/service/${id}`, { form: { name: 'renamed' } });
    expect((renamed.body as ServiceBody).name).toBe('renamed');
    await call(api, 'PUT', `${versionPath(id, 1)}/activate`);
    const refused = await call(api, 'DELETE', `/service/${id}`);
    expect(refused.status).toBe(400);
    await call(api, 'PUT', `${versionPath(id, 1)}/deactivate`);
    const deleted = await call(api, 'DELETE', `/service/${id}`);
    expect(deleted.body).toEqual({ status: 'ok' });
    expect((await call(api, 'GET', `/service/${id}`)).status).toBe(404);
  });
});

describe('local API: service versions', () => {
  it('clones to the next number, activates (locking) one version at a time, and deactivates', async () => {
    const api = await startApi();
    const { id } = await service(api);
    const clone = await call(api, 'PUT', `${versionPath(id, 1)}/clone`);
    expect(clone.body).toMatchObject({ number: 2, active: false, locked: false, service_id: id });
    const one = await call(api, 'PUT', `${versionPath(id, 1)}/activate`);
    expect(one.body).toMatchObject({ number: 1, active: true, locked: true });
    expect(one.body).toMatchObject({
      environments: [{ service_id: id, name: 'production', active_version: 1 }],
    });
    await call(api, 'PUT', `${versionPath(id, 2)}/activate`);
    const list = (await call(api, 'GET', `/service/${id}/version`)).body as VersionBody[];
    expect(list.map((v) => [v.number, v.active, v.locked])).toEqual([
      [1, false, true],
      [2, true, true],
    ]);
    // A clone of an old version still takes the next free number.
    const three = await call(api, 'PUT', `${versionPath(id, 1)}/clone`);
    expect((three.body as VersionBody).number).toBe(3);
    const off = await call(api, 'PUT', `${versionPath(id, 2)}/deactivate`);
    expect(off.body).toMatchObject({ number: 2, active: false, locked: true });
    const again = await call(api, 'PUT', `${versionPath(id, 2)}/deactivate`);
    expect(again.status).toBe(400);
  });

  it('locks a version, after which it refuses edits with 422 `Version locked`', async () => {
    const api = await startApi();
    const { id } = await service(api);
    const edited = await call(api, 'PUT', versionPath(id, 1), { form: { comment: 'first' } });
    expect(edited.body).toMatchObject({ number: 1, comment: 'first' });
    const locked = await call(api, 'PUT', `${versionPath(id, 1)}/lock`);
    expect(locked.body).toMatchObject({ number: 1, locked: true, active: false });
    const refused = await call(api, 'PUT', versionPath(id, 1), { form: { comment: 'x' } });
    expect(refused.status).toBe(422);
    expect(refused.body).toEqual({
      msg: 'Version locked',
      detail: `Version '1' for service '${id}' is locked`,
    });
    expect((await call(api, 'GET', versionPath(id, 1))).body).toMatchObject({ comment: 'first' });
  });

  it('answers 404 for a missing service or version, or a version that is not a number', async () => {
    const api = await startApi();
    const { id } = await service(api);
    for (const path of [
      versionPath(id, 2),
      versionPath(id, 0),
      versionPath(id, 'latest'),
      `${versionPath(id, 5)}/clone`,
      `${versionPath('NoSuchService00000000000', 1)}`,
      `/service/NoSuchService00000000000/version`,
    ]) {
      const method = path.endsWith('/clone') ? 'PUT' : 'GET';
      const res = await call(api, method, path);
      expect([path, res.status]).toEqual([path, 404]);
    }
    expect((await call(api, 'POST', `${versionPath(id, 1)}/clone`)).status).toBe(405);
  });
});
