// The README's deploy block, run against the local Fastly API with the real Fastly CLI: `tsctl
// setup --publisher-domain`, the production build of the settings setup wrote (into a temp dir),
// `fastly compute pack` + `fastly compute deploy --package` (what `compute publish` does after its
// own build, which would build the repository's settings instead of the temp copy), then the
// same deploy again. Every process is async execFile: a sync one would block the in-process API.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { LocalApi } from '../../src/local-api/index.js';
import { call, startApi, tempDir } from './helpers.js';

const run = promisify(execFile);
const FASTLY = join(process.cwd(), 'node_modules/@fastly/cli-linux-x64/fastly');

function cliEnv(api: LocalApi): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '',
    HOME: tempDir(),
    FASTLY_API_ENDPOINT: api.url,
    // The CLI fetches OpenID metadata first; any JSON answer (here a 401) satisfies it offline.
    FASTLY_ACCOUNT_ENDPOINT: api.url,
    FASTLY_API_TOKEN: api.token,
    FASTLY_USE_API_SIGNING_KEY: '1',
  };
}

async function exec(api: LocalApi, file: string, args: string[], cwd = process.cwd()) {
  return run(file, args, { env: cliEnv(api), cwd, timeout: 60_000, maxBuffer: 1 << 26 });
}

function writesSince(api: LocalApi, from: number): string[] {
  return api.state.requestLog
    .slice(from)
    .filter((r) => r.method !== 'GET' && r.method !== 'HEAD')
    .map((r) => `${r.method} ${r.path}`);
}

describe('the README deploy block against the local Fastly API', () => {
  it('setup, production build, publish: the package lands on the linked version, which serves; again: skipped', async () => {
    const api = await startApi();
    const dir = tempDir();
    copyFileSync('trusted-server.toml', join(dir, 'trusted-server.toml'));
    copyFileSync('fastly.toml', join(dir, 'fastly.toml'));

    const setup = await exec(api, process.execPath, [
      'cli/dist/tsctl.mjs',
      'setup',
      '--service-name',
      'my-publisher-keys',
      '--publisher-domain',
      'news.publisher-site.com',
      '--config',
      join(dir, 'trusted-server.toml'),
      '--fastly-toml',
      join(dir, 'fastly.toml'),
      '-o',
      'json',
    ]);
    const report = JSON.parse(setup.stdout) as { service: { id: string; version: number } };
    const { id, version } = report.service;
    const linksOf = async (n: number) =>
      (
        (await call(api, 'GET', `/service/${id}/version/${n}/resource`)).body as Array<{
          name: string;
        }>
      )
        .map((l) => l.name)
        .sort();
    const linked = await linksOf(version);
    expect(linked).toEqual([
      'admin_tokens',
      'api-keys',
      'jwks_store',
      'keyring_locks',
      'signing_keys',
    ]);
    expect((await call(api, 'GET', `/service/${id}/version/${version}/package`)).status).toBe(404);

    // `npm run build` for that settings file: the production target, which refuses placeholders.
    const build = await exec(api, process.execPath, [
      'scripts/build-wasm.mjs',
      '--settings',
      join(dir, 'trusted-server.toml'),
      '--out',
      dir,
    ]);
    expect(build.stdout).toMatch(/main\.wasm: [\d.]+ MiB/);
    await exec(api, FASTLY, ['compute', 'pack', '--wasm-binary', join(dir, 'bin/main.wasm')], dir);
    const pkg = join(dir, 'pkg/trusted-server-keys.tar.gz');
    const deployArgs = [
      'compute',
      'deploy',
      '--package',
      pkg,
      '--non-interactive',
      '--status-check-off',
    ];
    const first = await exec(api, FASTLY, deployArgs, dir);
    expect(first.stdout).toContain(`SUCCESS: Deployed package (service ${id}, version ${version})`);

    // The package landed on the version setup linked, that version serves, the links are on it.
    const landed = await call(api, 'GET', `/service/${id}/version/${version}/package`);
    expect(landed.status).toBe(200);
    const bytes = readFileSync(pkg);
    expect(landed.body).toMatchObject({
      service_id: id,
      version,
      metadata: {
        name: 'trusted-server-keys',
        language: 'javascript',
        size: bytes.length,
        hashsum: createHash('sha512').update(bytes).digest('hex'),
      },
    });
    const versions = (await call(api, 'GET', `/service/${id}/version`)).body as Array<{
      number: number;
      active: boolean;
    }>;
    expect(versions.map((v) => [v.number, v.active])).toEqual([[version, true]]);
    expect(await linksOf(version)).toEqual(linked);
    // With none on the version, the CLI created its default domain there.
    const domains = (await call(api, 'GET', `/service/${id}/version/${version}/domain`))
      .body as Array<{ name: string }>;
    expect(domains.map((d) => d.name)).toEqual([expect.stringMatching(/\.edgecompute\.app$/)]);

    // Again, unchanged: the CLI compares files_hash and skips, writing nothing.
    const mark = api.state.requestLog.length;
    const second = await exec(api, FASTLY, deployArgs, dir);
    expect(second.stdout).toContain(
      'Skipping package deployment, local and service version are identical',
    );
    expect(writesSince(api, mark)).toEqual([]);
  }, 120_000);
});
