// `node scripts/ensure-stores.mjs`, the first step of deploying by hand (docs/deploying.md), run with the real Fastly
// CLI against the local Fastly API: it creates what is missing, finds what exists (Trusted
// Server's own jwks_store and signing_keys), changes nothing when run again, and prints the ids
// as the lines of trusted-server.toml; `--dry-run` creates nothing.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { LocalApi } from '../../src/local-api/index.js';
import { startApi, tempDir } from './helpers.js';

const run = promisify(execFile);

async function ensure(api: LocalApi, ...args: string[]): Promise<string> {
  return (await runEnsure(api, api.token, args)).stdout;
}

async function runEnsure(api: LocalApi, token: string, args: string[]) {
  const env = {
    PATH: process.env['PATH'] ?? '',
    HOME: tempDir(),
    FASTLY_API_ENDPOINT: api.url,
    // The CLI fetches OpenID metadata first; any JSON answer (here a 401) satisfies it offline.
    FASTLY_ACCOUNT_ENDPOINT: api.url,
    FASTLY_API_TOKEN: token,
  };
  return run(process.execPath, ['scripts/ensure-stores.mjs', ...args], { env, timeout: 60_000 });
}

const count = (text: string, word: string) =>
  text.split('\n').filter((l) => l.startsWith(word)).length;

describe('scripts/ensure-stores.mjs with the Fastly CLI', () => {
  it('creates the five stores once, then finds them; the toml lines name the right ids', async () => {
    const api = await startApi();
    const first = await ensure(api);
    expect(count(first, 'created')).toBe(5);
    const second = await ensure(api);
    expect(count(second, 'created')).toBe(0);
    expect(count(second, 'found')).toBe(5);
    const jwks = api.state.findConfigStore('jwks_store')?.id;
    const signing = api.state.findSecretStore('signing_keys')?.id;
    const locks = api.state.findKvStore('keyring_locks')?.id;
    expect(second).toContain(`config_store_id = "${jwks}"`);
    expect(second).toContain(`secret_store_id = "${signing}"`);
    expect(second).toContain(`lock_store_id = "${locks}"`);
    expect(first.split('In trusted-server.toml')[1]).toBe(
      second.split('In trusted-server.toml')[1],
    );
  }, 120_000);

  it("adopts Trusted Server's stores and creates only the rest; --dry-run creates nothing", async () => {
    const api = await startApi();
    const { url, token } = api;
    const create = (path: string, body: string, type: string) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'fastly-key': token, 'content-type': type },
        body,
      });
    await create(
      '/resources/stores/config',
      'name=jwks_store',
      'application/x-www-form-urlencoded',
    );
    await create('/resources/stores/secret', '{"name":"signing_keys"}', 'application/json');
    const dry = await ensure(api, '--dry-run');
    expect(count(dry, 'found')).toBe(2);
    expect(count(dry, 'missing')).toBe(3);
    expect(api.state.findKvStore('keyring_locks')).toBeUndefined();
    expect(dry).toContain('lock_store_id = "REPLACE_WITH_KEYRING_LOCKS_ID"');
    const real = await ensure(api);
    expect(count(real, 'found')).toBe(2);
    expect(count(real, 'created')).toBe(3);
  }, 120_000);

  it("stops at the first refused call with exit 1 and the CLI's reason, creating nothing", async () => {
    const api = await startApi();
    const failed = await runEnsure(api, 'not-the-token', []).then(
      () => null,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toMatch(/^ensure-stores: fastly config-store list --json failed: .*401/);
    expect(failed?.stderr).not.toContain(api.token);
    expect(api.state.findConfigStore('jwks_store')).toBeUndefined();
  }, 60_000);

  it('refuses an unknown option with exit 2', async () => {
    const api = await startApi();
    const failed = await runEnsure(api, api.token, ['--dryrun']).then(
      () => null,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toContain('unknown: --dryrun');
  });
});
