// Fastly's own CLI, pointed at the local API, as a check that the API is faithful enough for
// Fastly's tooling (go-fastly underneath). @fastly/cli is a devDependency, so it is always here.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { LocalApi } from '../../src/local-api/index.js';
import { startApi, tempDir } from './helpers.js';

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
});
