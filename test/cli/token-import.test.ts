// `tsctl token import`: Trusted Server's Basic credentials become an admin_tokens entry holding
// only a salted hash; with --local they are installed and then authenticate against a real edge;
// an existing entry is never replaced without --replace.
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestEdge, type TestEdge } from '../support/local-edge.js';
import { tsctl } from './harness.js';

const USER = 'ops admin@publisher.example';
const PASSWORD = 'pä:ss word ✓ "quoted" 1';

let edge: TestEdge | undefined;
let dir: string | undefined;
afterEach(async () => {
  await edge?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  edge = undefined;
  dir = undefined;
});

const workDir = async () => (dir = await mkdtemp(join(tmpdir(), 'tsk-import-')));
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
const entryFor = (user: string) =>
  `basic-${createHash('sha256').update(user, 'utf8').digest('base64url')}`;

/** Signs through the edge with Basic credentials; answers the status. */
async function signWith(e: TestEdge, user: string, password: string): Promise<number> {
  const res = await fetch(`${e.edgeUrl}/admin/keys/sign`, {
    method: 'POST',
    headers: { authorization: basic(user, password), 'content-type': 'application/json' },
    body: '{"id":"req-1"}',
  });
  await res.body?.cancel();
  return res.status;
}

function localFlags(e: TestEdge): string[] {
  return ['--local', '--state-dir', e.stateDir, '--api-endpoint', e.apiUrl];
}

describe('tsctl token import', () => {
  it('prints the entry (a salted hash, named by the username) and a create-only upload command', async () => {
    const out = await tsctl(['token', 'import', '--username', USER, '--password-stdin'], {
      stdin: `${PASSWORD}\n`,
    });
    expect(out.code).toBe(0);
    expect(out.stderr).toBe('');
    expect(out.stdout).not.toContain(PASSWORD);
    const name = entryFor(USER);
    const value = /^ {2}value: (\{.*\})$/m.exec(out.stdout)?.[1] ?? '{}';
    const record = JSON.parse(value) as { sha256: string; role: string; salt: string };
    expect(record.role).toBe('operator');
    // The trailing newline of `echo`/a file is not part of the password.
    expect(record.sha256).toBe(
      createHash('sha256').update(`${record.salt}${PASSWORD}`, 'utf8').digest('hex'),
    );
    expect(out.stdout).toContain(`  name:  ${name}\n`);
    expect(out.stdout).toContain(
      `  printf '%s' '${value}' | fastly secret-store-entry create --store-id=<admin_tokens id> --name=${name} --stdin\n`,
    );
  });

  it('with --local installs it: the Basic credentials then authenticate at the edge', async () => {
    const e = (edge = await startTestEdge());
    const work = await workDir();
    const file = join(work, 'password');
    await writeFile(file, `${PASSWORD}\n`);
    expect(await signWith(e, USER, PASSWORD)).toBe(401);
    const out = await tsctl(
      [
        'token',
        'import',
        '--username',
        USER,
        '--password-file',
        file,
        ...localFlags(e),
        '-o',
        'json',
      ],
      { env: {} },
    );
    expect(out.code).toBe(0);
    const answer = JSON.parse(out.stdout);
    expect(answer).toMatchObject({
      role: 'operator',
      installed: { api_endpoint: e.apiUrl, store_id: e.stores.adminTokensStoreId },
    });
    expect(answer.imported[0].secret_store_entry.name).toBe(entryFor(USER));
    expect(await signWith(e, USER, PASSWORD)).toBe(200);
    expect(await signWith(e, USER, `${PASSWORD}x`)).toBe(401);
  });

  it('never replaces an existing entry without --replace, and replaces it with', async () => {
    const e = (edge = await startTestEdge());
    const imp = (password: string, ...extra: string[]) =>
      tsctl(
        ['token', 'import', '--username', 'admin', '--password-stdin', ...localFlags(e), ...extra],
        { stdin: password, env: {} },
      );
    expect((await imp('first-password-0123')).code).toBe(0);
    const again = await imp('second-password-0123');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(
      'tsctl: token_exists: admin_tokens already has an entry "admin" (for --username); nothing was written\ntsctl: hint: pass --replace to replace it\n',
    );
    expect(await signWith(e, 'admin', 'first-password-0123')).toBe(200);
    expect(await signWith(e, 'admin', 'second-password-0123')).toBe(401);
    expect((await imp('second-password-0123', '--replace')).code).toBe(0);
    expect(await signWith(e, 'admin', 'second-password-0123')).toBe(200);
    expect(await signWith(e, 'admin', 'first-password-0123')).toBe(401);
  });

  it('refuses to shadow a token created by tsctl token create (same name)', async () => {
    const e = (edge = await startTestEdge());
    const [id, secret] = e.adminToken.split('.') as [string, string];
    const out = await tsctl(
      ['token', 'import', '--username', id, '--password-stdin', ...localFlags(e)],
      { stdin: 'an-imported-password', env: {} },
    );
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/^tsctl: token_exists: /);
    expect(await signWith(e, id, secret)).toBe(200);
  });

  it("imports the [[handlers]] of Trusted Server's settings that cover the key routes", async () => {
    const e = (edge = await startTestEdge());
    const work = await workDir();
    const toml = join(work, 'trusted-server.toml');
    await writeFile(
      toml,
      [
        '[[handlers]]',
        'path = "^/_ts/admin"',
        'username = "ts-admin"',
        'password = "integration admin password: 32 bytes ok"',
        '',
        '[[handlers]]',
        'path = "^/secure"',
        'username = "page-user"',
        'password = "page-password-123"',
        '',
        '[publisher]',
        'domain = "example.com"',
        'proxy_secret = "unused here"',
      ].join('\n'),
    );
    const out = await tsctl(
      ['token', 'import', '--from-trusted-server-toml', toml, ...localFlags(e), '-o', 'json'],
      { env: {} },
    );
    expect(out.code).toBe(0);
    const answer = JSON.parse(out.stdout);
    expect(answer.imported).toHaveLength(1);
    expect(answer.imported[0]).toMatchObject({
      source: `${toml} [[handlers]] #1`,
      secret_store_entry: { name: 'ts-admin' },
    });
    expect(out.stdout).not.toContain('integration admin password');
    expect(await signWith(e, 'ts-admin', 'integration admin password: 32 bytes ok')).toBe(200);
    expect(await signWith(e, 'page-user', 'page-password-123')).toBe(401);
  });

  it('imports a short password but warns on stderr', async () => {
    const out = await tsctl(['token', 'import', '--username', 'admin', '--password-stdin'], {
      stdin: 'short-pass',
    });
    expect(out.code).toBe(0);
    expect(out.stderr).toBe(
      'tsctl: warning: the password of --username has fewer than 16 characters; prefer a long random one\n',
    );
    expect(out.stdout + out.stderr).not.toContain('short-pass');
  });

  it.each([
    [['--username', 'a:b', '--password-stdin'], 'x', 'the username contains ":"'],
    [['--username', 'admin', '--password-stdin'], '\n', 'the password is empty'],
    [
      ['--username', 'admin', '--password-stdin'],
      'replace-with-admin-password-32-bytes',
      'a placeholder Trusted Server refuses',
    ],
    [['--password-stdin'], 'x', 'missing --username USER'],
    [['--username', 'admin'], undefined, 'exactly one of --password-stdin, --password-file'],
    [
      ['--username', 'admin', '--password-stdin', '--password-file', 'f'],
      'x',
      'exactly one of --password-stdin, --password-file',
    ],
    [['--username', 'admin', '--password-stdin', '--role', 'root'], 'x', '--role must be'],
  ])('refuses %j as a usage error (exit 2): %s', async (flags, stdin, message) => {
    const out = await tsctl(['token', 'import', ...flags], {
      ...(stdin === undefined ? {} : { stdin }),
    });
    expect(out.code).toBe(2);
    expect(out.stdout).toBe('');
    expect(out.stderr).toContain(message);
  });

  it('refuses settings without a handler for the key routes, naming the file', async () => {
    const work = await workDir();
    const toml = join(work, 'ts.toml');
    await writeFile(toml, '[[handlers]]\npath = "^/secure"\nusername = "u"\npassword = "p"\n');
    const out = await tsctl(['token', 'import', '--from-trusted-server-toml', toml]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(`${toml}: no [[handlers]] path covers /admin/keys/rotate`);
  });
});
