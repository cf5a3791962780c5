import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startLocalApi } from '../../src/local-api/index.js';
import { call, configStore, startApi, tempDir } from './helpers.js';

/**
 * A state file exactly as the local API wrote it before services existed (no `services` member),
 * pinned here so that a schema change that stops reading it fails this test.
 */
const BEFORE_SERVICES = `{
  "format": "local-fastly-api-state",
  "version": 1,
  "kvGeneration": "1764662400000000",
  "configStores": [
    {
      "id": "pS86koqiZWkt6VJgvNuUe3",
      "name": "jwks_store",
      "created_at": "2026-12-01T10:00:00Z",
      "updated_at": "2026-12-01T10:00:00Z",
      "items": [
        {
          "key": "current-kid",
          "value": "kid-1",
          "created_at": "2026-12-01T10:00:00Z",
          "updated_at": "2026-12-01T10:00:00Z"
        }
      ]
    }
  ],
  "secretStores": [],
  "kvStores": []
}
`;

describe('local API: services in the state file', () => {
  it('loads a state file written before services existed, and adds services to it', async () => {
    const dir = tempDir();
    const file = join(dir, 'local-api-state.json');
    writeFileSync(file, BEFORE_SERVICES, { mode: 0o600 });
    const api = await startApi(dir);
    expect(api.state.configItem('pS86koqiZWkt6VJgvNuUe3', 'current-kid')).toBe('kid-1');
    expect((await call(api, 'GET', '/service')).body).toEqual([]);
    const created = await call(api, 'POST', '/service', { form: { name: 'svc', type: 'wasm' } });
    expect(created.status).toBe(200);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { version: number; services: unknown[] };
    expect(doc.version).toBe(1);
    expect(doc.services).toHaveLength(1);
  });

  it('keeps services, versions and their resource links across a restart', async () => {
    const dir = tempDir();
    const first = await startApi(dir);
    const storeId = await configStore(first);
    const service = await call(first, 'POST', '/service', { form: { name: 'svc', type: 'wasm' } });
    const id = (service.body as { id: string }).id;
    const made = await call(first, 'POST', `/service/${id}/version/1/resource`, {
      form: { resource_id: storeId, name: 'jwks_store' },
    });
    await call(first, 'PUT', `/service/${id}/version/1/activate`);
    await call(first, 'PUT', `/service/${id}/version/1/clone`);
    const versionsBefore = (await call(first, 'GET', `/service/${id}/version`)).body;
    await first.close();

    const second = await startApi(dir);
    expect((await call(second, 'GET', `/service/${id}/version`)).body).toEqual(versionsBefore);
    const link = (made.body as { id: string }).id;
    for (const v of [1, 2]) {
      const got = await call(second, 'GET', `/service/${id}/version/${v}/resource/${link}`);
      expect(got.body).toEqual({ ...(made.body as object), version: v });
    }
    // Still locked after the restart.
    const refused = await call(second, 'DELETE', `/service/${id}/version/1/resource/${link}`);
    expect(refused.status).toBe(422);
  });

  it('refuses to start on a corrupt services member, naming where it is wrong', async () => {
    const dir = tempDir();
    const file = join(dir, 'local-api-state.json');
    const doc = JSON.parse(BEFORE_SERVICES) as Record<string, unknown>;
    const version = (n: number) => ({
      number: n,
      active: false,
      locked: false,
      comment: '',
      created_at: '',
      updated_at: '',
      resources: [],
    });
    const service = {
      id: 's',
      name: 'n',
      type: 'wasm',
      comment: '',
      created_at: '',
      updated_at: '',
    };
    writeFileSync(file, JSON.stringify({ ...doc, services: [{ ...service, versions: 'x' }] }));
    await expect(startLocalApi({ stateDir: dir, port: 0 })).rejects.toThrow(
      /services\[0\]\.versions is not an array/,
    );
    writeFileSync(
      file,
      JSON.stringify({ ...doc, services: [{ ...service, versions: [version(2), version(1)] }] }),
    );
    await expect(startLocalApi({ stateDir: dir, port: 0 })).rejects.toThrow(
      /services\[0\]\.versions are not in ascending order/,
    );
    const badLink = {
      ...version(1),
      resources: [
        {
          id: 'l',
          name: 'n',
          resource_id: 'r',
          resource_type: 'dictionary',
          created_at: '',
          updated_at: '',
        },
      ],
    };
    writeFileSync(
      file,
      JSON.stringify({ ...doc, services: [{ ...service, versions: [badLink] }] }),
    );
    await expect(startLocalApi({ stateDir: dir, port: 0 })).rejects.toThrow(
      /services\[0\]\.versions\[0\]\.resources\[0\]\.resource_type is unknown/,
    );
  });
});
