// Backends on service versions: created form-encoded, listed and described by name, refused on a
// locked version and for a taken name, copied by clone, and kept across a restart.
import { describe, expect, it } from 'vitest';
import { call, startApi, tempDir } from './helpers.js';

const FASTLY_API = {
  name: 'fastly_api',
  address: 'api.fastly.com',
  port: '443',
  use_ssl: '1',
  ssl_cert_hostname: 'api.fastly.com',
  ssl_sni_hostname: 'api.fastly.com',
  override_host: 'api.fastly.com',
};

describe('local API backends', () => {
  it('creates, lists and describes a backend; refuses a taken name and a locked version; clone copies it', async () => {
    const stateDir = tempDir();
    const api = await startApi(stateDir);
    const created = await call(api, 'POST', '/service', { form: { name: 'svc', type: 'wasm' } });
    const id = (created.body as { id: string }).id;
    const base = `/service/${id}/version/1/backend`;
    const made = await call(api, 'POST', base, { form: FASTLY_API });
    expect(made.status).toBe(200);
    expect(made.body).toMatchObject({
      name: 'fastly_api',
      address: 'api.fastly.com',
      port: 443,
      use_ssl: true,
      override_host: 'api.fastly.com',
      service_id: id,
      version: 1,
    });
    expect((await call(api, 'POST', base, { form: FASTLY_API })).status).toBe(409);
    expect(((await call(api, 'GET', base)).body as unknown[]).length).toBe(1);
    expect((await call(api, 'GET', `${base}/fastly_api`)).status).toBe(200);
    expect((await call(api, 'GET', `${base}/other`)).status).toBe(404);
    expect((await call(api, 'POST', base, { form: { name: 'x' } })).status).toBe(400);

    await call(api, 'PUT', `/service/${id}/version/1/activate`);
    const locked = await call(api, 'POST', base, { form: { ...FASTLY_API, name: 'second' } });
    expect(locked.status).toBe(422);
    await call(api, 'PUT', `/service/${id}/version/1/clone`);
    const copied = await call(api, 'GET', `/service/${id}/version/2/backend/fastly_api`);
    expect(copied.body).toMatchObject({ address: 'api.fastly.com', version: 2 });

    await api.close();
    const again = await startApi(stateDir);
    const kept = await call(again, 'GET', `/service/${id}/version/2/backend/fastly_api`);
    expect(kept.body).toMatchObject({
      port: 443,
      use_ssl: true,
      ssl_sni_hostname: 'api.fastly.com',
    });
  });
});
