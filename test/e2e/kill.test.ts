// `npm start` killed with SIGKILL in the middle of a change, then started again on the same
// state: the private key the dead change created (or was about to delete) is never left without
// a record, and once no write of the dead process can land, doctor --repair settles it. Faults
// are armed from outside, through the local API's control route, as anyone can against `npm start`.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DEV_KID = 'ts-2025-10-A';
const LEASE_MS = 8000;
const LATE_MS = 4000;

interface Running {
  child: ChildProcess;
  edgeUrl: string;
  apiUrl: string;
  token: string;
}

let stateDir: string;
let settingsPath: string;
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
  }
  await rm(stateDir, { recursive: true, force: true });
  await rm(dirname(settingsPath), { recursive: true, force: true });
});

async function prepareState(): Promise<void> {
  stateDir = await mkdtemp(join(tmpdir(), 'tsk-kill-'));
  settingsPath = join(await mkdtemp(join(tmpdir(), 'tsk-kill-settings-')), 'settings.toml');
  const base = await readFile(join(ROOT, 'trusted-server.toml'), 'utf8');
  await writeFile(
    settingsPath,
    base
      .replace(
        /timeout_ms = \d+/,
        `timeout_ms = 800\nlease_ms = ${LEASE_MS}\nlate_write_ms = ${LATE_MS}`,
      )
      // The test polls doctor; the admin rate limit is not what it is about.
      .replace(/^requests_per_minute = \d+/m, 'requests_per_minute = 100000'),
  );
}

async function start(): Promise<Running> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    TSK_STATE_DIR: stateDir,
    TSK_SETTINGS: settingsPath,
    TSK_EDGE_PORT: '0',
    TSK_API_PORT: '0',
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/platform/node/main.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const [edgeUrl, apiUrl] = await new Promise<[string, string]>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const edge = /edge \(the app\):\s+(http:\/\/\S+)/.exec(out)?.[1];
      const api = /local Fastly API:\s+(http:\/\/\S+)/.exec(out)?.[1];
      if (edge && api) resolve([edge, api]);
    });
    child.once('exit', (code) => reject(new Error(`npm start exited (${code}): ${stderr}`)));
  });
  const token = (await readFile(join(stateDir, 'admin-token'), 'utf8')).trim();
  return { child, edgeUrl, apiUrl, token };
}

/** The names in the signing-key secret store, read through the local Fastly API. */
async function storedSecrets(running: Running): Promise<string[]> {
  const key = (await readFile(join(stateDir, 'fastly-api-token'), 'utf8')).trim();
  const get = async (path: string): Promise<unknown> =>
    (await fetch(`${running.apiUrl}${path}`, { headers: { 'fastly-key': key } })).json();
  const stores = (await get('/resources/stores/secret')) as {
    data: Array<{ id: string; name: string }>;
  };
  const id = stores.data.find((s) => s.name === 'signing_keys')?.id ?? '';
  const secrets = (await get(`/resources/stores/secret/${id}/secrets`)) as {
    data: Array<{ name: string }>;
  };
  return secrets.data.map((s) => s.name).sort();
}

/** Arms faults from outside the process, through the local API's control route. */
async function arm(running: Running, faults: unknown[]): Promise<void> {
  const key = (await readFile(join(stateDir, 'fastly-api-token'), 'utf8')).trim();
  const res = await fetch(`${running.apiUrl}/__local/faults`, {
    method: 'POST',
    headers: { 'fastly-key': key, 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  });
  expect(res.status).toBeLessThan(300);
}

async function kill(running: Running): Promise<void> {
  const exited = new Promise((resolve) => running.child.once('exit', resolve));
  running.child.kill('SIGKILL');
  await exited;
}

function call(running: Running, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${running.token}`);
  if (init.body !== undefined) headers.set('content-type', 'application/json');
  return fetch(`${running.edgeUrl}${path}`, { ...init, headers });
}

interface Doctor {
  healthy: boolean;
  findings: Array<{ code: string; kid?: string; repairable: boolean }>;
  repaired?: string[];
}

async function doctor(running: Running, repair = false): Promise<Doctor> {
  const res = await call(running, '/admin/deployments/default/doctor', {
    method: repair ? 'POST' : 'GET',
    ...(repair ? { body: '{}' } : {}),
  });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as Doctor;
}

/** Polls until `check` holds, at most `ms`. */
async function until(check: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function signingKeyNames(running: Running): Promise<string[]> {
  // What the keyring lists plus what doctor says is stored: the orphan check covers the rest.
  const report = await doctor(running);
  const listed = await (await call(running, '/admin/deployments/default/keysets')).json();
  const ids = (listed as { keysets: Array<{ id: string }> }).keysets.map((k) => k.id);
  return [
    ...ids,
    ...report.findings.filter((f) => f.code === 'orphan_private_key').map((f) => f.kid ?? ''),
  ];
}

describe('kill -9 in the middle of a change', () => {
  it('a rotate killed after creating its private key: the key is in the journal, and the next run deletes it', async () => {
    await prepareState();
    // The config update is held long enough to kill the process while it waits.
    const first = await start();
    await arm(first, [{ method: 'PATCH', path: '/items$', delayMs: 60_000, times: 'always' }]);
    const pending = call(first, '/admin/keys/rotate', { method: 'POST', body: '{}' }).catch(
      () => undefined,
    );
    // Wait until the new private key exists (the journal was written before it).
    await until(async () => (await storedSecrets(first)).length === 2, 10_000);
    await kill(first);
    await pending;

    const second = await start();
    // The dead rotate's key is accounted for by the journal: never an orphan. Its lease first
    // looks like a running operation, then (past its bound) like a pending intent.
    const report = await doctor(second);
    expect(report.findings.map((f) => f.code)).not.toContain('orphan_private_key');
    await until(
      async () => (await doctor(second)).findings.some((f) => f.code === 'pending_intent'),
      20_000,
    );
    expect((await doctor(second)).findings.map((f) => f.code)).not.toContain('orphan_private_key');
    // Until its writes can no longer land, changes are refused, not guessed at.
    expect((await call(second, '/admin/keys/rotate', { method: 'POST', body: '{}' })).status).toBe(
      409,
    );
    await until(async () => (await doctor(second)).findings.some((f) => f.repairable), 30_000);
    const repaired = await doctor(second, true);
    expect(repaired.repaired?.[0]).toMatch(/^settled: rotate .* had not committed/);
    expect(repaired.healthy).toBe(true);
    expect(await signingKeyNames(second)).toEqual([DEV_KID]);
    expect(await storedSecrets(second)).toEqual([DEV_KID]);
  }, 90_000);

  it('a remove killed after deleting the private key, before unpublishing: the next run completes it', async () => {
    await prepareState();
    const setup = await start();
    const prepared = await call(setup, '/admin/deployments/default/keysets', {
      method: 'POST',
      body: '{"kid":"doomed"}',
    });
    expect(prepared.status).toBe(201);
    await kill(setup);

    const first = await start();
    await arm(first, [{ method: 'PATCH', path: '/items$', delayMs: 60_000, times: 'always' }]);
    const pending = call(first, '/admin/deployments/default/keysets/doomed', {
      method: 'DELETE',
    }).catch(() => undefined);
    // Wait until the private key is gone: the deletion landed, the unpublish is held.
    await until(async () => !(await storedSecrets(first)).includes('doomed'), 10_000);
    await kill(first);
    await pending;

    const second = await start();
    // Still published (a key that never signs: partners can verify with it), its removal named
    // by the claim, so the key is not an orphan and the removal is completed, never undone.
    expect(await (await fetch(`${second.edgeUrl}/.well-known/jwks.json`)).text()).toContain(
      'doomed',
    );
    await until(
      async () => (await doctor(second)).findings.some((f) => f.code === 'pending_intent'),
      20_000,
    );
    await until(
      async () =>
        (await doctor(second)).findings.some((f) => f.code === 'pending_intent' && f.repairable),
      30_000,
    );
    const repaired = await doctor(second, true);
    expect(repaired.repaired?.[0]).toMatch(
      /^settled: remove .* had not committed, and was completed \(a removal only goes forward\)/,
    );
    expect(repaired.healthy).toBe(true);
    expect(await (await fetch(`${second.edgeUrl}/.well-known/jwks.json`)).text()).not.toContain(
      'doomed',
    );
    expect(await signingKeyNames(second)).toEqual([DEV_KID]);
    expect(await storedSecrets(second)).toEqual([DEV_KID]);
  }, 90_000);
});
