// One validation on every path: `npm start` (src/platform/node/main.ts) and the wasm build
// (scripts/build-wasm.mjs) run as real processes on the same settings file, and must refuse or
// accept it alike, with the same message; Trusted Server's own file starts and builds unchanged.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TS_FILE = 'test/fixtures/trusted-server/trusted-server.toml';
const TS_IGNORED =
  "ignored, not used by this service (Trusted Server's settings): [[handlers]], publisher.cookie_domain, publisher.origin_url, publisher.proxy_secret, [tester_cookie], [ec], [integrations], [proxy], [auction]";

let dir: string;
/** A settings file under the repository's temp folder, named as both processes will name it. */
let settingsFile: (name: string, text: string) => Promise<string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsk-settings-'));
  settingsFile = async (name, text) => {
    const path = join(dir, name);
    await writeFile(path, text);
    return relative(ROOT, path);
  };
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm start` with TSK_SETTINGS: resolves when it exits, or when it is up (then stops it). */
function start(settings: string, onUp?: (edgeUrl: string) => Promise<void>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const stateDir = join(dir, `state-${Math.random().toString(36).slice(2)}`);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/platform/node/main.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        TSK_SETTINGS: settings,
        TSK_STATE_DIR: stateDir,
        TSK_EDGE_PORT: '0',
        TSK_API_PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let checking = false;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const url = /edge \(the app\):\s+(http:\/\/\S+)/.exec(stdout)?.[1];
      if (!url || checking) return;
      checking = true;
      (onUp ?? (async () => {}))(url).then(
        () => child.kill('SIGTERM'),
        (err: unknown) => {
          child.kill('SIGTERM');
          reject(err);
        },
      );
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function build(...args: string[]): Run {
  const run = spawnSync(process.execPath, ['scripts/build-wasm.mjs', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('the same settings file, refused alike by npm start and the build', () => {
  const cases: [string, (repo: string) => string, (file: string) => string][] = [
    [
      'a typo in [admin]',
      (repo) => repo.replace('requests_per_minute = 60', 'requests_per_minut = 60'),
      (file) =>
        `${file}: admin.requests_per_minut: unknown key (did you mean requests_per_minute?)`,
    ],
    [
      'a token pasted into [fastly_api]',
      (repo) => repo.replace('[fastly_api]\n', '[fastly_api]\napi_token = "not-a-real-token"\n'),
      (file) =>
        `${file}: fastly_api.api_token: named like a secret. This file is embedded in the wasm and kept in git; secrets belong in secret stores (the Fastly API token in api-keys as api_key, admin tokens in admin_tokens, signing keys in signing_keys), never here`,
    ],
    [
      'a misspelt section',
      (repo) => repo.replace('[verify]', '[verfy]'),
      (file) => `${file}: [verfy]: unknown section (did you mean [verify]?)`,
    ],
  ];

  it.each(cases)(
    '%s: same message from both',
    async (name, change, message) => {
      const repo = await readFile(join(ROOT, 'trusted-server.toml'), 'utf8');
      const changed = change(repo);
      expect(changed, 'the case changes the file').not.toBe(repo);
      const file = await settingsFile(`${name.replace(/\W+/g, '-')}.toml`, changed);
      const expected = message(file);

      const started = await start(file);
      expect(started.code).toBe(1);
      expect(started.stderr).toBe(`trusted-server-keys: could not start: ${expected}\n`);

      // The production build (the default) stops at the same key before the placeholders, so the
      // operator sees one message whatever the path; the local target once, to show it is the same.
      const targets = name === cases[0]?.[0] ? ['production', 'local'] : ['production'];
      for (const target of targets) {
        const built = build('--target', target, '--settings', file);
        expect(built.code, target).toBe(1);
        expect(built.stderr, target).toBe(`build failed: ${expected}\n`);
      }
      expect(started.stderr).not.toContain('not-a-real-token');
    },
    60_000,
  );
});

describe("Trusted Server's trusted-server.toml, unchanged", () => {
  it('starts npm start, listing what it ignores in one line, and serves the keys although it says enabled = false', async () => {
    let jwksStatus = 0;
    const run = await start(TS_FILE, async (url) => {
      jwksStatus = (await fetch(`${url}/.well-known/jwks.json`)).status;
    });
    expect(jwksStatus).toBe(200);
    expect(run.stderr).toBe('');
    const lines = run.stdout.split('\n').filter((l) => l.includes('ignored, not used'));
    expect(lines).toEqual([`  ${TS_FILE}: ${TS_IGNORED}`]);
  }, 60_000);

  it('passes the local build, listing what it ignores in one line', () => {
    const built = build('--check', '--target', 'local', '--settings', TS_FILE);
    expect(built.code).toBe(0);
    expect(built.stdout).toBe(
      `${TS_FILE}: ${TS_IGNORED}\n${TS_FILE}: settings ok for a local build\n`,
    );
  });

  it('is refused by the production build for its placeholder store ids', () => {
    const built = build('--check', '--settings', TS_FILE);
    expect(built.code).toBe(1);
    expect(built.stderr).toContain(
      'request_signing.config_store_id: "<fastly-config-store-id>" is a placeholder; put the id of the Config Store linked as jwks_store',
    );
  });
});

describe("the build targets and the repository's own file", () => {
  it('npm run build (production) refuses the placeholders; build:local accepts them', () => {
    const production = build('--check');
    expect(production.code).toBe(1);
    expect(production.stderr).toMatch(
      /^build failed: trusted-server\.toml is not ready for a production build:\n {2}- publisher\.domain: "publisher\.example" is a placeholder/,
    );
    expect(production.stderr).toContain('"REPLACE_WITH_JWKS_STORE_ID" is a placeholder');

    const local = build('--check', '--target', 'local');
    expect(local).toEqual({
      code: 0,
      stdout: 'trusted-server.toml: settings ok for a local build\n',
      stderr: '',
    });
  });

  it('passes the production build once real ids and a domain are in place', async () => {
    const repo = await readFile(join(ROOT, 'trusted-server.toml'), 'utf8');
    const real = repo
      .replace('publisher.example', 'www.news-site.co.uk')
      .replace('REPLACE_WITH_JWKS_STORE_ID', '5xJ1pQm9TnW3aZbC7dEfGh')
      .replace('REPLACE_WITH_SIGNING_KEYS_STORE_ID', '2kLmN4oPqR6sT8uVwXyZ0a')
      .replace('REPLACE_WITH_KEYRING_LOCKS_STORE_ID', 'a1b2c3d4e5f6g7h8i9j0kl');
    const file = await settingsFile('real.toml', real);
    expect(build('--check', '--settings', file)).toEqual({
      code: 0,
      stdout: `${file}: settings ok for a production build\n`,
      stderr: '',
    });
  });

  it('refuses an unknown target with a usage error (exit 2)', () => {
    const built = build('--target', 'staging', '--check');
    expect(built.code).toBe(2);
    expect(built.stderr).toContain('--target must be production or local, not "staging"');
  });

  it('builds the production target from package.json and fastly.toml, the local one for serve and CI', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts['build']).toBe('node scripts/build-wasm.mjs');
    expect(pkg.scripts['build:local']).toBe('node scripts/build-wasm.mjs --target local');
    expect(await readFile(join(ROOT, 'fastly.toml'), 'utf8')).toMatch(/^build = "npm run build"$/m);
    expect(await readFile(join(ROOT, '.ci/run'), 'utf8')).toMatch(/^npm run build:local$/m);
  });
});
