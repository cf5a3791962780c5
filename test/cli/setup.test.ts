// `tsctl setup` against the local Fastly API, in-process: from an empty API and from Trusted
// Server's own store layout, twice each (the second run writes nothing and leaves the settings
// file byte-identical), the dry run (no write at all), a failure midway completed by a re-run,
// a link name clash and a refused token. After setup, the stores are read as the edge reads
// them: the first key is published with its private key, the operator token authenticates.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { authenticate, parseToken } from '../../src/core/auth/admin-token.js';
import { fromBase64, toBase64Url } from '../../src/core/crypto/base64.js';
import { publicKeyOf } from '../../src/core/crypto/ed25519.js';
import { parse } from 'smol-toml';
import { resolveDeployment } from '../../src/core/deployments.js';
import { openKeyring } from '../../src/core/keyring/open-deployment.js';
import { checkSettings } from '../../src/core/settings.js';
import { FastlyApi, keyStoreApi, leaseStoreApi } from '../../src/fastly-api/index.js';
import { startLocalApi, type LocalApi } from '../../src/local-api/index.js';
import { startLocalEdge } from '../../src/platform/node/local-edge.js';
import { readLocalSeed } from '../../src/platform/node/fastly-toml.js';
import { SETUP_STORES } from '../../src/cli/commands/setup.js';
import { STORE_NAMES } from '../../src/core/deployments.js';
import { call, startApi, tempDir } from '../local-api/helpers.js';
import { tsctl, type Outcome } from './harness.js';

const TS_FIXTURES = 'test/fixtures/trusted-server';

const runFile = promisify(execFile);

/** A fresh copy of a settings file in a temp dir, next to a copy of this repo's fastly.toml. */
function configCopy(from: string): string {
  const dir = tempDir();
  copyFileSync('fastly.toml', join(dir, 'fastly.toml'));
  const path = join(dir, 'trusted-server.toml');
  copyFileSync(from, path);
  return path;
}

/** The fastly.toml copy next to a settings copy. */
const manifestOf = (config: string): string => join(dirname(config), 'fastly.toml');

/** `args` plus `--fastly-toml` next to its `--config`, so no test touches the repo's manifest. */
function withManifest(args: string[]): string[] {
  const at = args.indexOf('--config');
  if (at < 0 || args.includes('--fastly-toml')) return args;
  return [...args, '--fastly-toml', manifestOf(args[at + 1]!)];
}

function env(api: LocalApi, token = api.token): Record<string, string> {
  return {
    FASTLY_API_TOKEN: token,
    FASTLY_API_ENDPOINT: api.url,
    FASTLY_USE_API_SIGNING_KEY: '1',
  };
}

async function setup(api: LocalApi, args: string[], token?: string): Promise<Outcome> {
  return tsctl(['setup', ...withManifest(args)], { env: env(api, token) });
}

/** Requests that may change state, answered since `from` (an index into the request log). */
function writesSince(api: LocalApi, from: number): string[] {
  return api.state.requestLog
    .slice(from)
    .filter((r) => r.method !== 'GET' && r.method !== 'HEAD')
    .map((r) => `${r.method} ${r.path}`);
}

function json(out: Outcome): {
  steps: Array<{ result: string; step: string; detail?: string }>;
  operator_token: { id: string; token: string } | null;
  service: { id: string; version: number } | null;
  changed: boolean;
} {
  return JSON.parse(out.stdout);
}

const results = (out: Outcome, result: string): string[] =>
  json(out)
    .steps.filter((s) => s.result === result)
    .map((s) => s.step);

/** The edge's view: the signing kid, its JWK, and that its private key matches. */
async function checkFirstKeyUsable(api: LocalApi): Promise<string> {
  const jwks = api.state.findConfigStore('jwks_store');
  const signing = api.state.findSecretStore('signing_keys');
  expect(jwks && signing).toBeTruthy();
  const kid = api.state.configItem(jwks!.id, 'current-kid');
  expect(kid).toMatch(/^ts-\d{4}-\d{2}-\d{2}/);
  expect(api.state.configItem(jwks!.id, 'active-kids')?.split(',')).toContain(kid);
  const jwk = JSON.parse(api.state.configItem(jwks!.id, kid!) ?? '{}') as { x: string };
  const seed = fromBase64(new TextDecoder().decode(api.state.secretPlaintext(signing!.id, kid!)!));
  expect(seed?.length).toBe(32);
  expect(toBase64Url(await publicKeyOf(seed!))).toBe(jwk.x);
  return kid!;
}

async function checkOperatorToken(api: LocalApi, token: string): Promise<void> {
  const credential = parseToken(token)!;
  const store = api.state.findSecretStore('admin_tokens')!;
  const stored = api.state.secretPlaintext(store.id, credential.id);
  const principal = await authenticate(credential, new TextDecoder().decode(stored!));
  expect(principal.role).toBe('operator');
}

/** The links of the service's latest version, by name → store id. */
async function links(api: LocalApi, serviceId: string): Promise<Record<string, string>> {
  const versions = (await call(api, 'GET', `/service/${serviceId}/version`)).body as Array<{
    number: number;
  }>;
  const latest = versions.at(-1)!.number;
  const list = (await call(api, 'GET', `/service/${serviceId}/version/${latest}/resource`))
    .body as Array<{ name: string; resource_id: string }>;
  return Object.fromEntries(list.map((l) => [l.name, l.resource_id]));
}

describe('tsctl setup', () => {
  it('shares one store table with scripts/ensure-stores.mjs, naming the stores the edge opens', () => {
    expect(SETUP_STORES.map((s) => s.name).sort()).toEqual(Object.values(STORE_NAMES).sort());
  });

  it('provisions an empty Fastly account, then a second run writes nothing', async () => {
    const api = await startApi();
    const config = configCopy('trusted-server.toml');
    const before = readFileSync(config, 'utf8');
    const first = await setup(api, [
      '--service-name',
      'my-publisher-keys',
      '--config',
      config,
      '-o',
      'json',
    ]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const report = json(first);
    expect(results(first, 'created')).toEqual([
      'config-store jwks_store',
      'secret-store signing_keys',
      'secret-store api-keys',
      'secret-store admin_tokens',
      'kv-store keyring_locks',
      'service my-publisher-keys',
      'backend fastly_api',
      'first key',
    ]);
    expect(results(first, 'linked')).toHaveLength(5);
    expect(results(first, 'written')).toEqual([config, `${manifestOf(config)} service_id`]);
    expect(results(first, 'uploaded')).toEqual(['api-keys/api_key', 'operator token']);
    expect(report.changed).toBe(true);

    // Only the three ids changed, byte for byte.
    const ids = {
      jwks: api.state.findConfigStore('jwks_store')!.id,
      signing: api.state.findSecretStore('signing_keys')!.id,
      locks: api.state.findKvStore('keyring_locks')!.id,
    };
    const after = readFileSync(config, 'utf8');
    expect(after).toBe(
      before
        .replace('REPLACE_WITH_JWKS_STORE_ID', ids.jwks)
        .replace('REPLACE_WITH_SIGNING_KEYS_STORE_ID', ids.signing)
        .replace('REPLACE_WITH_KEYRING_LOCKS_STORE_ID', ids.locks),
    );

    // fastly.toml names the service, so `fastly compute publish` publishes to it.
    const manifestBefore = readFileSync('fastly.toml', 'utf8');
    const manifestAfter = readFileSync(manifestOf(config), 'utf8');
    expect(manifestAfter).toBe(
      manifestBefore.replace('service_id = ""', `service_id = "${report.service!.id}"`),
    );

    // Linked under the names the edge opens, on the service's (only, unactivated) version.
    expect(await links(api, report.service!.id)).toEqual({
      jwks_store: ids.jwks,
      signing_keys: ids.signing,
      'api-keys': api.state.findSecretStore('api-keys')!.id,
      admin_tokens: api.state.findSecretStore('admin_tokens')!.id,
      keyring_locks: ids.locks,
    });
    expect(results(first, 'not activated')).toEqual(['version 1']);
    // The backend the app sends management-API calls through ([fastly_api] backend, endpoint).
    const backend = await call(
      api,
      'GET',
      `/service/${report.service!.id}/version/1/backend/fastly_api`,
    );
    expect(backend.body).toMatchObject({
      address: 'api.fastly.com',
      port: 443,
      use_ssl: true,
      ssl_sni_hostname: 'api.fastly.com',
      override_host: 'api.fastly.com',
    });

    // Usable: the first key published with its private key, the API token, the operator token.
    await checkFirstKeyUsable(api);
    const apiKeys = api.state.findSecretStore('api-keys')!;
    expect(new TextDecoder().decode(api.state.secretPlaintext(apiKeys.id, 'api_key')!)).toBe(
      api.token,
    );
    await checkOperatorToken(api, report.operator_token!.token);
    // The API token is never printed.
    expect(first.stdout + first.stderr).not.toContain(api.token);

    const mark = api.state.requestLog.length;
    const second = await setup(api, ['--service-name', 'my-publisher-keys', '--config', config]);
    expect(second.code).toBe(0);
    expect(writesSince(api, mark)).toEqual([]);
    expect(readFileSync(config, 'utf8')).toBe(after);
    expect(readFileSync(manifestOf(config), 'utf8')).toBe(manifestAfter);
    expect(second.stdout).toContain('Nothing changed: everything was already set up.');
    expect(second.stdout).toMatch(/skipped \(exists\)\s+operator token/);
    expect(second.stdout).not.toContain('tok-');
  }, 60_000);

  it("adopts Trusted Server's stores, keys and file as they are, then a second run writes nothing", async () => {
    const api = await startApi();
    // Trusted Server's own layout: every store its fastly.toml declares, seeded as it seeds them
    // (its keys ts-2025-10-A and the unusable ts-2025-10-B, its api-keys/api_key), no
    // admin_tokens or keyring_locks (this service's additions).
    const seed = await readLocalSeed(`${TS_FIXTURES}/fastly.toml`, { FASTLY_KEY: 'ts-api-token' });
    const connection = { endpoint: api.url, token: api.token, fetch, timeoutMs: 10_000 };
    const secretSigningKey = await new FastlyApi(connection).getSecretSigningKey();
    const fastly = new FastlyApi({ ...connection, secretSigningKey });
    for (const [name, items] of seed.configStores) {
      const store = await fastly.createConfigStore(name);
      for (const [key, value] of items) await fastly.upsertConfigItem(store.id, key, value);
    }
    for (const [name, secrets] of seed.secretStores) {
      const store = await fastly.createSecretStore(name);
      for (const [key, value] of secrets) await fastly.putSecret(store.id, key, value, 'create');
    }
    const jwks = api.state.findConfigStore('jwks_store')!;
    const signing = api.state.findSecretStore('signing_keys')!;
    const itemsBefore = ['current-kid', 'active-kids', 'ts-2025-10-A', 'ts-2025-10-B'].map((k) =>
      api.state.configItem(jwks.id, k),
    );
    const config = configCopy(`${TS_FIXTURES}/trusted-server.toml`);
    const before = readFileSync(config, 'utf8');

    const first = await setup(api, [
      '--service-name',
      'publisher-keys',
      '--config',
      config,
      '-o',
      'json',
    ]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(results(first, 'found')).toEqual([
      'config-store jwks_store',
      'secret-store signing_keys',
      'secret-store api-keys',
    ]);
    expect(results(first, 'created')).toEqual([
      'secret-store admin_tokens',
      'kv-store keyring_locks',
      'service publisher-keys',
      'backend fastly_api',
    ]);
    // Trusted Server's API token and keys are kept, not replaced.
    expect(results(first, 'skipped (exists)')).toEqual(['api-keys/api_key', 'first key']);
    const apiKeys = api.state.findSecretStore('api-keys')!;
    expect(new TextDecoder().decode(api.state.secretPlaintext(apiKeys.id, 'api_key')!)).toBe(
      'ts-api-token',
    );
    const firstKey = json(first).steps.find((s) => s.step === 'first key')!;
    expect(firstKey.detail).toContain("Trusted Server's, adopted as they are");
    expect(firstKey.detail).toContain('signing: ts-2025-10-A');
    expect(
      ['current-kid', 'active-kids', 'ts-2025-10-A', 'ts-2025-10-B'].map((k) =>
        api.state.configItem(jwks.id, k),
      ),
    ).toEqual(itemsBefore);
    expect(api.state.configItem(jwks.id, 'keyring')).toBeNull();
    expect(api.state.secretPlaintext(signing.id, 'ts-2025-10-A')).not.toBeNull();

    // Trusted Server's file: its two ids written in place; lock_store_id, which Trusted Server's
    // own file refuses, is not added, and setup says so.
    const after = readFileSync(config, 'utf8');
    expect(after).toBe(
      before
        .replace('<fastly-config-store-id>', jwks.id)
        .replace('<fastly-secret-store-id>', signing.id),
    );
    expect(results(first, 'skipped')).toEqual([`${config} lock_store_id`]);
    await checkOperatorToken(api, json(first).operator_token!.token);

    const mark = api.state.requestLog.length;
    const second = await setup(api, [
      '--service-name',
      'publisher-keys',
      '--config',
      config,
      '-o',
      'json',
    ]);
    expect(second.code).toBe(0);
    expect(writesSince(api, mark)).toEqual([]);
    expect(readFileSync(config, 'utf8')).toBe(after);
    expect(json(second).changed).toBe(false);
    expect(json(second).operator_token).toBeNull();
  }, 60_000);

  it('the Node edge started over what setup made serves its first key and takes its operator token', async () => {
    const stateDir = tempDir();
    const api = await startLocalApi({ stateDir, port: 0 });
    const config = configCopy('trusted-server.toml');
    let out: Outcome;
    try {
      out = await setup(api, ['--service-name', 'svc', '--config', config, '-o', 'json']);
      expect(out.code).toBe(0);
    } finally {
      await api.close();
    }
    const { token } = json(out).operator_token!;
    const kid = json(out)
      .steps.find((s) => s.step === 'first key')!
      .detail!.split(',')[0]!;
    const edge = await startLocalEdge({
      stateDir,
      edgePort: 0,
      apiPort: 0,
      settingsPath: config,
      echoAudit: false,
      logger: { log: () => undefined },
    });
    try {
      const jwks = (await (await fetch(`${edge.edgeUrl}/.well-known/jwks.json`)).json()) as {
        keys: Array<{ kid: string }>;
      };
      expect(jwks.keys.map((k) => k.kid)).toEqual([kid]);
      const list = await fetch(`${edge.edgeUrl}/admin/deployments/default/keysets`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(list.status).toBe(200);
      const rotated = await fetch(`${edge.edgeUrl}/admin/keys/rotate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(rotated.status).toBe(200);
    } finally {
      await edge.close();
    }
  }, 60_000);

  it('--publisher-domain writes [publisher] domain in place; a re-run changes nothing; a real domain is never replaced', async () => {
    const api = await startApi();
    const config = configCopy('trusted-server.toml');
    const before = readFileSync(config, 'utf8');
    const base = ['--service-name', 'my-publisher-keys', '--config', config];
    const first = await setup(api, [...base, '--publisher-domain', 'News.Publisher-Site.com']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const after = readFileSync(config, 'utf8');
    // The ids and the domain changed, and not one other byte.
    expect(after).toBe(
      before
        .replace('REPLACE_WITH_JWKS_STORE_ID', api.state.findConfigStore('jwks_store')!.id)
        .replace(
          'REPLACE_WITH_SIGNING_KEYS_STORE_ID',
          api.state.findSecretStore('signing_keys')!.id,
        )
        .replace('REPLACE_WITH_KEYRING_LOCKS_STORE_ID', api.state.findKvStore('keyring_locks')!.id)
        .replace('domain = "publisher.example"', 'domain = "news.publisher-site.com"'),
    );
    expect(first.stdout).toMatch(/written\s+\S+ \[publisher\] domain: news\.publisher-site\.com\n/);
    expect(first.stdout).toContain(
      'Done. Next: npm run build, then npx fastly compute publish --non-interactive',
    );
    // The production build's own check now passes.
    expect(
      checkSettings(parse(after), { file: config, target: 'production' }).settings.publisher.domain,
    ).toBe('news.publisher-site.com');

    const mark = api.state.requestLog.length;
    const again = await setup(api, [...base, '--publisher-domain', 'news.publisher-site.com']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/unchanged\s+\S+ \[publisher\] domain/);
    expect(again.stdout).toContain('Nothing changed: everything was already set up.');
    expect(again.stdout).not.toContain('Next:');

    // Another real domain: refused before any write, the file as it was.
    const other = await setup(api, [...base, '--publisher-domain', 'www.other-publisher.com']);
    expect(other.code).toBe(3);
    expect(other.stderr).toContain(
      'already names the publisher domain "news.publisher-site.com", not "www.other-publisher.com"',
    );
    for (const bad of [
      'https://news.site.com/',
      'news.site.com:443',
      'localhost',
      '10.0.0.1',
      'a..b.com',
    ]) {
      const refused = await setup(api, [...base, '--publisher-domain', bad]);
      expect(refused.code, bad).toBe(2);
      expect(refused.stderr, bad).toContain('--publisher-domain must be a host name');
    }
    // A file with no domain line: setup adds no key, it says which line to add.
    const bare = configCopy('trusted-server.toml');
    writeFileSync(bare, readFileSync(bare, 'utf8').replace(/^domain = .*\n/m, ''));
    const noLine = await setup(api, [
      '--service-name',
      'my-publisher-keys',
      '--config',
      bare,
      '--publisher-domain',
      'www.publisher.com',
    ]);
    expect(noLine.code).toBe(2);
    expect(noLine.stderr).toContain('has no domain under [publisher]; add domain = "" there');
    expect(writesSince(api, mark)).toEqual([]);
    expect(readFileSync(config, 'utf8')).toBe(after);
  }, 90_000);

  it('with a placeholder domain left, the last line says to set it before npm run build', async () => {
    const api = await startApi();
    const config = configCopy('trusted-server.toml');
    const base = ['--service-name', 'my-publisher-keys', '--config', config];
    const first = await setup(api, base);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(
      `Done. Next: set [publisher] domain in ${config} to your publisher's domain ("publisher.example" is a placeholder npm run build refuses), or re-run setup with --publisher-domain NAME; then npm run build`,
    );
    // A placeholder given on purpose (a rehearsal) is written, and still named as one.
    const rehearsal = await setup(api, [
      ...base,
      '--publisher-domain',
      'publisher.test',
      '-o',
      'json',
    ]);
    expect(rehearsal.code).toBe(0);
    expect(results(rehearsal, 'written')).toEqual([`${config} [publisher] domain`]);
    expect(JSON.parse(rehearsal.stdout).publisher_domain).toEqual({
      value: 'publisher.test',
      placeholder: true,
    });
    const again = await setup(api, base);
    expect(again.stdout).toContain('Nothing changed: everything was already set up.');
    expect(again.stdout).toContain('Next: set [publisher] domain in');
    // A dry run names the write and does not make it.
    const text = readFileSync(config, 'utf8');
    const mark = api.state.requestLog.length;
    const dry = await setup(api, [...base, '--publisher-domain', 'www.publisher.com', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/would write\s+\S+ \[publisher\] domain: www\.publisher\.com\n/);
    expect(readFileSync(config, 'utf8')).toBe(text);
    expect(writesSince(api, mark)).toEqual([]);
  }, 90_000);

  it('--dry-run prints the plan and writes nothing', async () => {
    const api = await startApi();
    const config = configCopy('trusted-server.toml');
    const before = readFileSync(config, 'utf8');
    const mark = api.state.requestLog.length;
    const dry = await setup(api, [
      '--service-name',
      'my-publisher-keys',
      '--config',
      config,
      '--dry-run',
      '--activate',
    ]);
    expect(dry.code).toBe(0);
    expect(writesSince(api, mark)).toEqual([]);
    expect(readFileSync(config, 'utf8')).toBe(before);
    expect(dry.stdout).toMatch(/would create\s+config-store jwks_store/);
    expect(dry.stdout).toMatch(/would create\s+service my-publisher-keys/);
    expect(dry.stdout).toMatch(/would link\s+link keyring_locks/);
    expect(dry.stdout).toMatch(/would create\s+first key/);
    expect(dry.stdout).toContain('Dry run: nothing was written.');
    expect(api.state.findConfigStore('jwks_store')).toBeUndefined();
  }, 60_000);

  it('a write that fails midway exits 6 with the steps so far; the next run completes it', async () => {
    const api = await startApi();
    const config = configCopy('trusted-server.toml');
    // The second link lands, but its answer is a 503: setup cannot know it landed.
    let seen = 0;
    const realFetch = fetch;
    const failing: typeof fetch = async (input, init) => {
      const request = new Request(input, init);
      if (request.method === 'POST' && /\/resource$/.test(new URL(request.url).pathname)) {
        seen++;
        if (seen === 2) {
          api.state.injectFault({
            method: 'POST',
            path: /\/resource$/,
            status: 503,
            mode: 'after',
          });
        }
      }
      return realFetch(request);
    };
    const failed = await tsctl(
      ['setup', ...withManifest(['--service-name', 'svc', '--config', config, '-o', 'json'])],
      { env: env(api), fetch: failing },
    );
    expect(failed.code).toBe(6);
    const error = (JSON.parse(failed.stdout) as { error: Record<string, unknown> }).error;
    expect(error['code']).toBe('fastly_failed');
    expect(String(error['hint'])).toContain('run the same tsctl setup again');
    expect((error['steps'] as unknown[]).length).toBeGreaterThan(5);
    expect(failed.stderr).toContain('tsctl: hint: run the same tsctl setup again');

    const again = await setup(api, ['--service-name', 'svc', '--config', config, '-o', 'json']);
    expect(again.code).toBe(0);
    expect(results(again, 'unchanged').filter((s) => s.startsWith('link'))).toEqual([
      'link jwks_store',
      'link signing_keys',
    ]);
    expect(results(again, 'linked')).toHaveLength(3);
    await checkFirstKeyUsable(api);
    await checkOperatorToken(api, json(again).operator_token!.token);
    const mark = api.state.requestLog.length;
    expect((await setup(api, ['--service-name', 'svc', '--config', config])).code).toBe(0);
    expect(writesSince(api, mark)).toEqual([]);
  }, 60_000);

  it('does not make a second first key when another run made one after it looked', async () => {
    const api = await startApi();
    const config = configCopy('trusted-server.toml');
    // Stores, links and files first; then delete nothing: only the key step is raced below.
    const connection = { endpoint: api.url, token: api.token, fetch, timeoutMs: 10_000 };
    let raced: string | undefined;
    const racing: typeof fetch = async (input, init) => {
      const request = new Request(input, init);
      // Setup's lease request comes after its read found no key: another run rotates first.
      if (
        raced === undefined &&
        /^\/resources\/stores\/kv\/[^/]+\/keys\//.test(new URL(request.url).pathname)
      ) {
        raced = 'pending';
        const settings = checkSettings(parse(readFileSync(config, 'utf8'))).settings;
        const fastly = new FastlyApi({
          ...connection,
          secretSigningKey: await new FastlyApi(connection).getSecretSigningKey(),
        });
        const rs = settings.request_signing;
        const other = openKeyring({
          settings,
          deployment: resolveDeployment(settings, 'default'),
          clock: { now: () => Date.now() },
          random: { bytes: (n) => new Uint8Array(randomBytes(n)) },
          keyStore: keyStoreApi(fastly, {
            configStoreId: rs.config_store_id,
            secretStoreId: rs.secret_store_id,
          }),
          leaseStore: leaseStoreApi(fastly, rs.lock_store_id!),
          holder: { holder: 'other-run', requestId: 'other-1' },
        });
        raced = (await other.manager.rotateKey()).newKid;
      }
      return fetch(request);
    };
    const out = await tsctl(
      ['setup', ...withManifest(['--service-name', 'svc', '--config', config, '-o', 'json'])],
      { env: env(api), fetch: racing },
    );
    expect(out.code).toBe(0);
    expect(raced).toMatch(/^ts-/);
    const step = json(out).steps.find((s) => s.step === 'first key')!;
    expect(step).toEqual({
      result: 'skipped (exists)',
      step: 'first key',
      detail: 'made meanwhile by another run',
    });
    expect(await checkFirstKeyUsable(api)).toBe(raced);
    const jwks = api.state.findConfigStore('jwks_store')!;
    expect(api.state.configItem(jwks.id, 'active-kids')).toBe(raced);
  }, 60_000);

  it('on a service with an active version: links on a clone, leaves it for publish, activates only with --activate', async () => {
    const api = await startApi();
    const config = configCopy('trusted-server.toml');
    const created = await call(api, 'POST', '/service', { form: { name: 'live', type: 'wasm' } });
    const serviceId = (created.body as { id: string }).id;
    await call(api, 'PUT', `/service/${serviceId}/version/1/activate`);

    const first = await setup(api, ['--service-id', serviceId, '--config', config, '-o', 'json']);
    expect(first.code).toBe(0);
    expect(results(first, 'created')).toContain('version 2');
    const report = JSON.parse(first.stdout) as { activate_command: string };
    expect(report.activate_command).toBe(
      `fastly service version activate --service-id=${serviceId} --version=2`,
    );
    const notActivated = json(first).steps.find((s) => s.result === 'not activated')!;
    expect(notActivated.step).toBe('version 2');
    expect(notActivated.detail).toContain('version 1 serves traffic');
    // Version 1 still serves, unchanged; the links are on version 2.
    const v1 = (await call(api, 'GET', `/service/${serviceId}/version/1/resource`)).body;
    expect(v1).toEqual([]);
    expect(Object.keys(await links(api, serviceId))).toHaveLength(5);

    // Re-run: the draft an earlier run made is found, not cloned again.
    let mark = api.state.requestLog.length;
    expect((await setup(api, ['--service-id', serviceId, '--config', config])).code).toBe(0);
    expect(writesSince(api, mark)).toEqual([]);

    mark = api.state.requestLog.length;
    const activated = await setup(api, [
      '--service-id',
      serviceId,
      '--config',
      config,
      '--activate',
    ]);
    expect(activated.code).toBe(0);
    expect(activated.stdout).toMatch(/activated\s+version 2/);
    expect(writesSince(api, mark)).toEqual([`PUT /service/${serviceId}/version/2/activate`]);
    mark = api.state.requestLog.length;
    const again = await setup(api, ['--service-id', serviceId, '--config', config, '--activate']);
    expect(again.stdout).toMatch(/unchanged\s+version 2: active/);
    expect(writesSince(api, mark)).toEqual([]);
  }, 60_000);

  it('the activate command it prints, run with the Fastly CLI, activates the linked version', async () => {
    const api = await startApi();
    const config = configCopy('trusted-server.toml');
    const created = await call(api, 'POST', '/service', { form: { name: 'live', type: 'wasm' } });
    const serviceId = (created.body as { id: string }).id;
    await call(api, 'PUT', `/service/${serviceId}/version/1/activate`);
    const first = await setup(api, ['--service-id', serviceId, '--config', config, '-o', 'json']);
    const command = (JSON.parse(first.stdout) as { activate_command: string }).activate_command;
    const [program, ...args] = command.split(' ');
    expect(program).toBe('fastly');
    // The same command, as printed, through this package's Fastly CLI (async: the API is in-process).
    await runFile((await import('@fastly/cli')).default, args, {
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: tempDir(),
        FASTLY_API_ENDPOINT: api.url,
        FASTLY_ACCOUNT_ENDPOINT: api.url,
        FASTLY_API_TOKEN: api.token,
      },
      timeout: 30_000,
    });
    const v2 = (await call(api, 'GET', `/service/${serviceId}/version/2`)).body;
    expect(v2).toMatchObject({ active: true });
    const mark = api.state.requestLog.length;
    const again = await setup(api, ['--service-id', serviceId, '--config', config]);
    expect(again.stdout).toMatch(/unchanged\s+version 2: active/);
    expect(writesSince(api, mark)).toEqual([]);
  }, 60_000);

  it('--replace-api-token overwrites api-keys/api_key; without it the stored token is kept', async () => {
    const api = await startApi();
    const config = configCopy('trusted-server.toml');
    expect((await setup(api, ['--service-name', 'svc', '--config', config])).code).toBe(0);
    const apiKeys = api.state.findSecretStore('api-keys')!;
    const stored = () =>
      new TextDecoder().decode(api.state.secretPlaintext(apiKeys.id, 'api_key')!);
    // Another token the local API accepts is not at hand, so write a marker by hand first.
    const fastly = new FastlyApi({
      endpoint: api.url,
      token: api.token,
      fetch,
      timeoutMs: 10_000,
      secretSigningKey: await new FastlyApi({
        endpoint: api.url,
        token: api.token,
        fetch,
        timeoutMs: 10_000,
      }).getSecretSigningKey(),
    });
    await fastly.putSecret(apiKeys.id, 'api_key', 'an-older-token', 'upsert');
    const kept = await setup(api, ['--service-name', 'svc', '--config', config]);
    expect(kept.stdout).toMatch(/skipped \(exists\)\s+api-keys\/api_key/);
    expect(stored()).toBe('an-older-token');
    const replaced = await setup(api, [
      '--service-name',
      'svc',
      '--config',
      config,
      '--replace-api-token',
    ]);
    expect(replaced.code).toBe(0);
    expect(replaced.stdout).toMatch(/uploaded\s+api-keys\/api_key: FASTLY_API_TOKEN, replacing it/);
    expect(stored()).toBe(api.token);
    expect(replaced.stdout).not.toContain(api.token);
  }, 60_000);

  it('a token without the permission (403) is exit 4, saying what it may not do', async () => {
    const api = await startApi();
    const config = configCopy('trusted-server.toml');
    api.state.injectFault({ method: 'POST', path: /^\/resources\/stores\/config$/, status: 403 });
    const out = await setup(api, ['--service-name', 'svc', '--config', config]);
    expect(out.code).toBe(4);
    expect(out.stderr).toContain(
      'tsctl: fastly_permission_denied: the Fastly API token may not create config-store jwks_store (403)',
    );
    expect(out.stderr).toContain('global scope');
    expect(api.state.findConfigStore('jwks_store')).toBeUndefined();
  }, 60_000);

  it('a rate limit that outlasts the retries is exit 8 and writes nothing', async () => {
    const api = await startApi();
    const config = configCopy('trusted-server.toml');
    api.state.injectFault({
      method: 'POST',
      path: /^\/resources\/stores\/config$/,
      status: 429,
      times: Infinity,
    });
    const out = await setup(api, ['--service-name', 'svc', '--config', config, '-o', 'json']);
    expect(out.code).toBe(8);
    const error = (JSON.parse(out.stdout) as { error: Record<string, unknown> }).error;
    expect(error['code']).toBe('fastly_rate_limited');
    expect(error['message']).toContain(
      'rate limit was reached while trying to create config-store jwks_store',
    );
    expect(api.state.findConfigStore('jwks_store')).toBeUndefined();
  }, 60_000);

  it('a failure at the first key still hands over the operator token; the re-run makes the key', async () => {
    const api = await startApi();
    const config = configCopy('trusted-server.toml');
    // The lease write of the first rotation fails: no key is made.
    api.state.injectFault({
      method: 'PUT',
      path: /^\/resources\/stores\/kv\/[^/]+\/keys\//,
      status: 503,
    });
    const failed = await setup(api, ['--service-name', 'svc', '--config', config, '-o', 'json']);
    const error = (JSON.parse(failed.stdout) as { error: Record<string, unknown> }).error;
    // The engine says nothing was committed (`not_committed`): a failure, not an unknown outcome.
    expect(failed.code).toBe(5);
    expect(error['outcome']).toBe('not_committed');
    expect(error['message']).toContain('could not create the first key');
    const token = (error['operator_token'] as { token: string }).token;
    await checkOperatorToken(api, token);
    const jwks = api.state.findConfigStore('jwks_store')!;
    expect(api.state.configItem(jwks.id, 'current-kid')).toBeNull();

    const again = await setup(api, ['--service-name', 'svc', '--config', config, '-o', 'json']);
    expect(again.code).toBe(0);
    expect(results(again, 'created')).toEqual(['first key']);
    expect(results(again, 'skipped (exists)')).toEqual(['api-keys/api_key', 'operator token']);
    await checkFirstKeyUsable(api);
  }, 60_000);

  it('refuses a link of the same name to another store (exit 3) and replaces nothing', async () => {
    const api = await startApi();
    const config = configCopy('trusted-server.toml');
    const created = await call(api, 'POST', '/service', { form: { name: 'svc', type: 'wasm' } });
    const serviceId = (created.body as { id: string }).id;
    const other = await call(api, 'POST', '/resources/stores/config', {
      form: { name: 'old_jwks' },
    });
    const otherId = (other.body as { id: string }).id;
    await call(api, 'POST', `/service/${serviceId}/version/1/resource`, {
      form: { resource_id: otherId, name: 'jwks_store' },
    });
    const before = readFileSync(config, 'utf8');
    const out = await setup(api, ['--service-id', serviceId, '--config', config]);
    expect(out.code).toBe(3);
    expect(out.stderr).toContain('tsctl: link_name_clash:');
    expect(out.stderr).toContain(`already links another store (${otherId}) as jwks_store`);
    expect(await links(api, serviceId)).toEqual({ jwks_store: otherId });
    expect(readFileSync(config, 'utf8')).toBe(before);
  }, 60_000);

  it('refuses a store linked under another name, and two stores of one name (exit 3)', async () => {
    const api = await startApi();
    const config = configCopy('trusted-server.toml');
    const created = await call(api, 'POST', '/service', { form: { name: 'svc', type: 'wasm' } });
    const serviceId = (created.body as { id: string }).id;
    const locks = await call(api, 'POST', '/resources/stores/kv', {
      json: { name: 'keyring_locks' },
    });
    const locksId = (locks.body as { id: string }).id;
    await call(api, 'POST', `/service/${serviceId}/version/1/resource`, {
      form: { resource_id: locksId, name: 'locks' },
    });
    const renamed = await setup(api, ['--service-id', serviceId, '--config', config]);
    expect(renamed.code).toBe(3);
    expect(renamed.stderr).toContain(
      `tsctl: link_name_clash: version 1 links kv-store keyring_locks (${locksId}) as "locks", but the edge opens it as keyring_locks`,
    );

    // Fastly lists two config stores named jwks_store (the local API refuses to make a second).
    const twice: typeof fetch = async (input, init) => {
      const request = new Request(input, init);
      const url = new URL(request.url);
      if (
        url.pathname === '/resources/stores/config' &&
        url.searchParams.get('name') === 'jwks_store'
      ) {
        return Response.json([
          { id: 'FirstJwksStore0000001', name: 'jwks_store' },
          { id: 'OtherJwksStore0000002', name: 'jwks_store' },
        ]);
      }
      return fetch(request);
    };
    const mark = api.state.requestLog.length;
    const clash = await tsctl(
      ['setup', ...withManifest(['--service-name', 'other', '--config', config])],
      { env: env(api), fetch: twice },
    );
    expect(clash.code).toBe(3);
    expect(clash.stderr).toContain(
      'tsctl: store_name_clash: 2 config-stores are named jwks_store (FirstJwksStore0000001, OtherJwksStore0000002)',
    );
    expect(writesSince(api, mark)).toEqual([]);
  }, 60_000);

  it('refuses a fastly_api backend that goes elsewhere (exit 3) and replaces nothing', async () => {
    const api = await startApi();
    const config = configCopy('trusted-server.toml');
    const created = await call(api, 'POST', '/service', { form: { name: 'svc', type: 'wasm' } });
    const serviceId = (created.body as { id: string }).id;
    await call(api, 'POST', `/service/${serviceId}/version/1/backend`, {
      form: { name: 'fastly_api', address: 'proxy.internal', port: '8080' },
    });
    const mark = api.state.requestLog.length;
    const out = await setup(api, ['--service-id', serviceId, '--config', config]);
    expect(out.code).toBe(3);
    expect(out.stderr).toContain(
      'tsctl: backend_clash: version 1 already has a backend fastly_api to http://proxy.internal:8080, but [fastly_api] endpoint says https://api.fastly.com:443',
    );
    // The stores were made before the backend was looked at; no link, no backend, no file.
    expect(writesSince(api, mark).filter((w) => w.startsWith('POST /service'))).toEqual([]);
  }, 60_000);

  it('refuses a fastly.toml that names another service (exit 3), before writing anything', async () => {
    const api = await startApi();
    const config = configCopy('trusted-server.toml');
    const manifest = manifestOf(config);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      manifest,
      readFileSync(manifest, 'utf8').replace(
        'service_id = ""',
        'service_id = "AnotherService0000000"',
      ),
    );
    const mark = api.state.requestLog.length;
    const out = await setup(api, ['--service-name', 'svc', '--config', config]);
    expect(out.code).toBe(3);
    expect(out.stderr).toContain(
      `tsctl: service_id_clash: ${manifest} names service AnotherService0000000, but setup would link the stores to a new service svc`,
    );
    expect(out.stderr).toContain('pass --service-id AnotherService0000000');
    expect(writesSince(api, mark)).toEqual([]);
  }, 60_000);

  it('a refused Fastly token is exit 4 and is never printed; a missing one is a usage error', async () => {
    const api = await startApi();
    const config = configCopy('trusted-server.toml');
    const refused = await setup(
      api,
      ['--service-name', 'svc', '--config', config],
      'wrong-token-123456',
    );
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain(
      'tsctl: fastly_token_refused: Fastly refused the API token (401)',
    );
    expect(refused.stdout + refused.stderr).not.toContain('wrong-token-123456');
    const missing = await tsctl(['setup', '--service-name', 'svc', '--config', config], {
      env: {},
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('FASTLY_API_TOKEN');
    const both = await setup(api, ['--service-name', 'a', '--service-id', 'b', '--config', config]);
    expect(both.code).toBe(2);
  }, 60_000);

  it('refuses a settings file the settings check refuses, before any write', async () => {
    const api = await startApi();
    const config = configCopy('trusted-server.toml');
    const text = readFileSync(config, 'utf8').replace(
      'requests_per_minute = 60',
      'requests_per_minut = 60',
    );
    const { writeFileSync } = await import('node:fs');
    writeFileSync(config, text);
    const mark = api.state.requestLog.length;
    const out = await setup(api, ['--service-name', 'svc', '--config', config]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('tsctl: invalid_settings:');
    expect(out.stderr).toContain('requests_per_minut');
    expect(api.state.requestLog.length).toBe(mark);
  }, 60_000);
});
