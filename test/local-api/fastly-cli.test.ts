// Fastly's own CLI, pointed at the local API, as a check that the API is faithful enough for
// Fastly's tooling (go-fastly underneath). @fastly/cli is a devDependency, so it is always here.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { LocalApi } from '../../src/local-api/index.js';
import { call, startApi, tempDir } from './helpers.js';

const run = promisify(execFile);

const cli: string = (await import('@fastly/cli')).default;

/** Runs `fastly ...args` against the API (async: the API runs in this process). */
async function fastly(api: LocalApi, home: string, ...args: string[]): Promise<string> {
  const env = {
    PATH: process.env['PATH'] ?? '',
    HOME: home,
    FASTLY_API_ENDPOINT: api.url,
    // The CLI fetches OpenID metadata first; any JSON answer (here a 401) satisfies it offline.
    FASTLY_ACCOUNT_ENDPOINT: api.url,
    FASTLY_API_TOKEN: api.token,
    // The local API signs client keys with its own key, not Fastly's pinned one.
    FASTLY_USE_API_SIGNING_KEY: '1',
  };
  const { stdout } = await run(cli, args, { env, timeout: 10_000 });
  return stdout;
}

describe('local API: the Fastly CLI as a client', () => {
  it('manages config stores and entries with `fastly config-store` commands', async () => {
    const api = await startApi();
    const home = tempDir();
    await fastly(api, home, 'config-store', 'create', '--name=jwks_store');
    const id = api.state.findConfigStore('jwks_store')?.id ?? '';
    const stores = JSON.parse(await fastly(api, home, 'config-store', 'list', '--json'));
    expect(stores).toEqual([expect.objectContaining({ name: 'jwks_store' })]);
    await fastly(
      api,
      home,
      'config-store-entry',
      'create',
      `--store-id=${id}`,
      '--key=a/b',
      '--value=1',
    );
    await fastly(
      api,
      home,
      'config-store-entry',
      'update',
      '--upsert',
      `--store-id=${id}`,
      '--key=current-kid',
      '--value=kid-1',
    );
    expect(api.state.configItem(id, 'a/b')).toBe('1');
    expect(api.state.configItem(id, 'current-kid')).toBe('kid-1');
    const listed = await fastly(api, home, 'config-store-entry', 'list', `--store-id=${id}`);
    expect(listed).toContain('current-kid');
  });

  it('uploads a secret with client-side encryption through `fastly secret-store-entry create`', async () => {
    const api = await startApi();
    const home = tempDir();
    await fastly(api, home, 'secret-store', 'create', '--name=signing_keys');
    const id = api.state.findSecretStore('signing_keys')?.id ?? '';
    const file = join(home, 'seed.txt');
    writeFileSync(file, 'ZmFrZS1zZWVkLWZvci10ZXN0cy0wMDAwMDAwMDAwMDA=');
    const out = await fastly(
      api,
      home,
      'secret-store-entry',
      'create',
      `--store-id=${id}`,
      '--name=kid-1',
      `--file=${file}`,
    );
    expect(out).toContain("Created secret 'kid-1'");
    expect(Buffer.from(api.state.secretPlaintext(id, 'kid-1') ?? []).toString()).toBe(
      'ZmFrZS1zZWVkLWZvci10ZXN0cy0wMDAwMDAwMDAwMDA=',
    );
    const paths = api.state.requestLog.map((r) => `${r.method} ${r.path}`);
    expect(paths).toContain('POST /resources/stores/secret/client-key');
  });

  it('creates, lists and finds a Compute service with `fastly service create/list/search`', async () => {
    const api = await startApi();
    const home = tempDir();
    const out = await fastly(api, home, 'service', 'create', '--name=tsk-local', '--type=wasm');
    const id = /Created service ([A-Za-z0-9]{22})/.exec(out)?.[1] ?? '';
    expect(id).not.toBe('');
    const listed = JSON.parse(await fastly(api, home, 'service', 'list', '--json')) as {
      ServiceID: string;
      Name: string;
      Type: string;
    }[];
    expect(listed).toEqual([
      expect.objectContaining({ ServiceID: id, Name: 'tsk-local', Type: 'wasm' }),
    ]);
    expect(await fastly(api, home, 'service', 'list')).toMatch(/tsk-local\s+\S+\s+wasm/);
    expect(await fastly(api, home, 'service', 'search', '--name=tsk-local')).toContain(`ID: ${id}`);
    const described = await fastly(api, home, 'service', 'describe', `--service-id=${id}`);
    expect(described).toContain('Name: tsk-local');
  });

  it('links stores with `fastly service resource-link create --autoclone` and activates versions', async () => {
    const api = await startApi();
    const home = tempDir();
    const created = await fastly(api, home, 'service', 'create', '--name=tsk-local', '--type=wasm');
    const sid = /Created service ([A-Za-z0-9]{22})/.exec(created)?.[1] ?? '';
    await fastly(api, home, 'config-store', 'create', '--name=jwks_store');
    const storeId = api.state.findConfigStore('jwks_store')?.id ?? '';
    await fastly(api, home, 'secret-store', 'create', '--name=signing_keys');
    const secretId = api.state.findSecretStore('signing_keys')?.id ?? '';
    const link = (name: string, resourceId = storeId): Promise<string> =>
      fastly(
        api,
        home,
        'service',
        'resource-link',
        'create',
        '--version=latest',
        '--autoclone',
        `--resource-id=${resourceId}`,
        `--name=${name}`,
        `--service-id=${sid}`,
      );
    // Version 1 is editable: linked in place.
    expect(await link('jwks_store')).toContain(`on service ${sid} version 1`);
    const listed = await fastly(
      api,
      home,
      'service',
      'resource-link',
      'list',
      '--version=latest',
      `--service-id=${sid}`,
    );
    expect(listed).toContain('Name: jwks_store');
    expect(listed).toContain(`Resource ID: ${storeId}`);
    expect(
      await fastly(
        api,
        home,
        'service',
        'version',
        'activate',
        '--version=latest',
        `--service-id=${sid}`,
      ),
    ).toContain(`Activated service ${sid} version 1`);
    expect(
      await fastly(
        api,
        home,
        'service',
        'version',
        'clone',
        '--version=active',
        `--service-id=${sid}`,
      ),
    ).toContain(`Cloned service ${sid} version 1 to version 2`);
    // Version 2 carries the link over; another store's link goes there...
    expect(await link('signing_keys', secretId)).toContain(`on service ${sid} version 2`);
    // ...but not a second link of the same name, and the locked version 1 was never touched.
    await expect(link('jwks_store', secretId)).rejects.toThrow(/409 Conflict/);
    const onTwo = await fastly(
      api,
      home,
      'service',
      'resource-link',
      'list',
      '--version=2',
      `--service-id=${sid}`,
    );
    expect(onTwo).toContain('Name: signing_keys');
    expect(onTwo).toContain('Resource Type: secret-store');
    const versions = await fastly(api, home, 'service', 'version', 'list', `--service-id=${sid}`);
    expect(versions).toMatch(/^1\s+true/m);
    const paths = api.state.requestLog.map((r) => `${r.method} ${r.path} ${r.status}`);
    expect(paths).toContain(`PUT /service/${sid}/version/1/activate 200`);
    expect(paths).not.toContain(`POST /service/${sid}/version/1/resource 422`);
  });

  it('describes, renames and deletes a link, and deletes the service, with `fastly service` commands', async () => {
    const api = await startApi();
    const home = tempDir();
    const created = await fastly(api, home, 'service', 'create', '--name=tsk-local', '--type=wasm');
    const sid = /Created service ([A-Za-z0-9]{22})/.exec(created)?.[1] ?? '';
    await fastly(api, home, 'kv-store', 'create', '--name=keyring_locks');
    const kvId = api.state.findKvStore('keyring_locks')?.id ?? '';
    const at = ['--version=1', `--service-id=${sid}`];
    // Without --name the CLI sends `name=`; the link takes the store's name.
    const made = JSON.parse(
      await fastly(
        api,
        home,
        'service',
        'resource-link',
        'create',
        ...at,
        `--resource-id=${kvId}`,
        '--json',
      ),
    ) as { id: string; name: string; resource_type: string };
    expect(made).toMatchObject({ name: 'keyring_locks', resource_type: 'object-store' });
    const link = `--id=${made.id}`;
    const described = await fastly(api, home, 'service', 'resource-link', 'describe', ...at, link);
    expect(described).toContain(`Resource ID: ${kvId}`);
    await fastly(api, home, 'service', 'resource-link', 'update', ...at, link, '--name=locks');
    expect(await fastly(api, home, 'service', 'resource-link', 'describe', ...at, link)).toContain(
      'Name: locks',
    );
    await fastly(api, home, 'service', 'resource-link', 'delete', ...at, link);
    const afterDelete = await call(api, 'GET', `/service/${sid}/version/1/resource`);
    expect(afterDelete.body).toEqual([]);
    await fastly(api, home, 'service', 'version', 'activate', ...at);
    // `--force` deactivates the active version first, as Fastly requires.
    expect(
      await fastly(api, home, 'service', 'delete', `--service-id=${sid}`, '--force'),
    ).toContain(`Deleted service ID ${sid}`);
    expect((await call(api, 'GET', `/service/${sid}`)).status).toBe(404);
  });
});
