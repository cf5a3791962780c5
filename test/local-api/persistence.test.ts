import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RUNNING_FILE, startLocalApi } from '../../src/local-api/index.js';
import { b64, call, configStore, kvStore, secretStore, startApi, tempDir } from './helpers.js';

/** The directory's files, without the running instance's claim (see instance-lock.ts). */
const stateFiles = (dir: string): string[] => readdirSync(dir).filter((f) => f !== RUNNING_FILE);

describe('local API: persistence', () => {
  it('keeps stores, items, secrets, KV entries and the token across a restart', async () => {
    const dir = tempDir();
    const first = await startApi(dir);
    const configId = await configStore(first);
    await call(first, 'PUT', `/resources/stores/config/${configId}/item/k`, {
      form: { item_value: 'v' },
    });
    const secretId = await secretStore(first);
    const secretBytes = Buffer.from([0, 255, 1, 254]).toString('base64');
    await call(first, 'POST', `/resources/stores/secret/${secretId}/secrets`, {
      json: { name: 'bin', secret: secretBytes },
    });
    const kvId = await kvStore(first);
    await call(first, 'PUT', `/resources/stores/kv/${kvId}/keys/lease`, { raw: 'held' });
    const generation = (
      await call(first, 'GET', `/resources/stores/kv/${kvId}/keys/lease`)
    ).headers.get('generation');
    await first.close();

    const second = await startApi(dir);
    expect(second.token).toBe(first.token);
    expect(second.state.findConfigStore('jwks_store')).toEqual({
      id: configId,
      name: 'jwks_store',
    });
    expect(second.state.configItem(configId, 'k')).toBe('v');
    expect([...(second.state.secretPlaintext(secretId, 'bin') ?? [])]).toEqual([0, 255, 1, 254]);
    const lease = await call(second, 'GET', `/resources/stores/kv/${kvId}/keys/lease`);
    expect(lease.text).toBe('held');
    expect(lease.headers.get('generation')).toBe(generation);
    await call(second, 'PUT', `/resources/stores/kv/${kvId}/keys/lease`, { raw: 'again' });
    const later = await call(second, 'GET', `/resources/stores/kv/${kvId}/keys/lease`);
    expect(Number(later.headers.get('generation'))).toBeGreaterThan(Number(generation));
  });

  it('writes one 0600 state file, secrets in base64, leaving no temporary files behind', async () => {
    const dir = tempDir();
    const api = await startApi(dir);
    const id = await secretStore(api);
    await call(api, 'POST', `/resources/stores/secret/${id}/secrets`, {
      json: { name: 'k', secret: b64('plain-text-value') },
    });
    const file = join(dir, 'local-api-state.json');
    const text = readFileSync(file, 'utf8');
    expect(text).toContain(b64('plain-text-value'));
    expect(text).not.toContain('plain-text-value');
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(stateFiles(dir).sort()).toEqual(['fastly-api-token', 'local-api-state.json']);
  });

  it('does not persist a refused mutation', async () => {
    const dir = tempDir();
    const api = await startApi(dir);
    const id = await configStore(api);
    const before = readFileSync(join(dir, 'local-api-state.json'), 'utf8');
    await call(api, 'PATCH', `/resources/stores/config/${id}/item/missing`, {
      form: { item_value: 'x' },
    });
    expect(readFileSync(join(dir, 'local-api-state.json'), 'utf8')).toBe(before);
  });

  it('refuses to start on a corrupt state file, naming it, and leaves the file untouched', async () => {
    const dir = tempDir();
    const file = join(dir, 'local-api-state.json');
    writeFileSync(file, '{"format":"local-fastly-api-state","version":1,"configStores":[');
    await expect(startLocalApi({ stateDir: dir, port: 0 })).rejects.toThrow(
      `Local Fastly API state file ${file} is corrupt: it is not valid JSON`,
    );
    writeFileSync(
      file,
      JSON.stringify({
        format: 'local-fastly-api-state',
        version: 1,
        kvGeneration: 0,
        configStores: [{ id: 'x', name: 'n', created_at: '', updated_at: '', items: 'oops' }],
        secretStores: [],
        kvStores: [],
      }),
    );
    await expect(startLocalApi({ stateDir: dir, port: 0 })).rejects.toThrow(
      /configStores\[0\]\.items is not an array/,
    );
    expect(readFileSync(file, 'utf8')).toContain('"oops"');
  });

  it('refuses to start with an unusable token file instead of replacing it', async () => {
    const dir = tempDir();
    const first = await startApi(dir);
    await configStore(first);
    await first.close();
    writeFileSync(join(dir, 'fastly-api-token'), 'short\n');
    await expect(startLocalApi({ stateDir: dir, port: 0 })).rejects.toThrow(/fastly-api-token/);
  });

  it('creates a missing state directory', async () => {
    const dir = join(tempDir(), 'nested', '.fastly-local');
    const api = await startApi(dir);
    await configStore(api);
    expect(readdirSync(dir)).toContain('local-api-state.json');
  });

  it('removes temp files a killed write left behind, and starts from the real state', async () => {
    const dir = tempDir();
    const first = await startApi(dir);
    const id = await configStore(first, 'real_store');
    await first.close();
    // What kill -9 during writeFileAtomic leaves: a hidden full copy of the state.
    const stale = join(dir, '.local-api-state.json.4242.0123456789ab.tmp');
    writeFileSync(stale, '{"format":"local-fastly-api-state","secret":"c2VlZA=="}', {
      mode: 0o600,
    });
    const second = await startApi(dir);
    expect(existsSync(stale)).toBe(false);
    expect(second.state.findConfigStore('real_store')).toEqual({ id, name: 'real_store' });
    expect(stateFiles(dir).sort()).toEqual(['fastly-api-token', 'local-api-state.json']);
  });

  it('removes a stale temp file even when the state file never got written', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, '.local-api-state.json.1.aa.tmp'), '{}');
    await startApi(dir);
    expect(stateFiles(dir)).toEqual(['fastly-api-token']);
  });

  it.each(['fastly-api-token', 'admin-token', 'audit.log'])(
    'refuses to start empty when the state file is missing but %s from an earlier run is there',
    async (leftover) => {
      const dir = tempDir();
      writeFileSync(join(dir, leftover), 'from an earlier run\n');
      const started = startLocalApi({ stateDir: dir, port: 0 });
      await expect(started).rejects.toThrow(
        `Local Fastly API state file ${join(dir, 'local-api-state.json')} is missing, but ${dir} holds ${leftover} from an earlier run`,
      );
      await expect(started).rejects.toThrow(/Restore local-api-state\.json .*or remove the folder/);
      // Nothing was created: no token, no state.
      expect(stateFiles(dir)).toEqual([leftover]);
    },
  );
});
