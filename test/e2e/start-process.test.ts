// `npm start` as its own process, for what only a real process shows: a hostile request must not
// take it down (an exception thrown outside any request's promise would end it).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkedBody, sendRaw, serialize } from '../security/support/raw-http.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let child: ChildProcess;
let stateDir: string;
let edgeUrl: string;
let stderr = '';

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'tsk-start-'));
  child = spawn(process.execPath, ['--import', 'tsx', 'src/platform/node/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, TSK_STATE_DIR: stateDir, TSK_EDGE_PORT: '0', TSK_API_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  edgeUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const url = /edge \(the app\):\s+(http:\/\/\S+)/.exec(out)?.[1];
      if (url) resolve(url);
    });
    child.once('exit', (code) => reject(new Error(`npm start exited (${code}): ${stderr}`)));
  });
}, 30_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

describe('npm start under hostile bodies', () => {
  it('answers 413 to 100 KB chunked bodies on sign and rotate, three times each, and keeps running', async () => {
    const token = (await readFile(join(stateDir, 'admin-token'), 'utf8')).trim();
    const port = Number(new URL(edgeUrl).port);
    for (const path of ['/admin/keys/sign', '/admin/keys/rotate']) {
      for (let i = 0; i < 3; i++) {
        const answer = await sendRaw(
          port,
          serialize({
            method: 'POST',
            target: path,
            headers: [
              ['Authorization', `Bearer ${token}`],
              ['Content-Type', 'application/json'],
              ['Transfer-Encoding', 'chunked'],
            ],
            body: chunkedBody(100_000),
          }),
        );
        expect(answer.status, `${path} #${i + 1}`).toBe(413);
      }
    }
    expect(child.exitCode, stderr).toBeNull();
    expect((await fetch(`${edgeUrl}/.well-known/jwks.json`)).status).toBe(200);
    expect(stderr).toBe('');
  });
});

describe('npm start owns its state directory', () => {
  it('records where it serves in .running.json', async () => {
    const claim = JSON.parse(await readFile(join(stateDir, '.running.json'), 'utf8'));
    expect(claim).toMatchObject({ pid: child.pid, edge_url: edgeUrl });
    expect(claim.api_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('refuses a second instance on the same directory, and the first keeps serving', async () => {
    const second = spawn(process.execPath, ['--import', 'tsx', 'src/platform/node/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, TSK_STATE_DIR: stateDir, TSK_EDGE_PORT: '0', TSK_API_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    second.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const [code] = (await once(second, 'exit')) as [number | null];
    expect(code).toBe(1);
    expect(err).toContain(
      `another local edge (pid ${child.pid}, ${edgeUrl}) is using the state directory`,
    );
    expect(err).toContain('TSK_STATE_DIR');
    expect((await fetch(`${edgeUrl}/.well-known/jwks.json`)).status).toBe(200);
    expect(child.exitCode).toBeNull();
  }, 30_000);
});

describe('stopping npm start through npm', () => {
  it("SIGTERM to npm's own pid stops the server too", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tsk-npm-'));
    const npm = spawn('npm', ['start'], {
      cwd: ROOT,
      env: { ...process.env, TSK_STATE_DIR: dir, TSK_EDGE_PORT: '0', TSK_API_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        npm.stdout?.on('data', (d: Buffer) => {
          out += d.toString();
          const found = /edge \(the app\):\s+(http:\/\/\S+)/.exec(out)?.[1];
          if (found) resolve(found);
        });
        npm.once('exit', (code) => reject(new Error(`npm start exited (${code})`)));
      });
      expect((await fetch(`${url}/.well-known/jwks.json`)).status).toBe(200);
      const exited = once(npm, 'exit');
      npm.kill('SIGTERM');
      await exited;
      // The node process npm started notices within about a second that its parent is gone.
      const deadline = Date.now() + 15_000;
      let serving = true;
      while (serving && Date.now() < deadline) {
        serving = await fetch(`${url}/.well-known/jwks.json`).then(
          () => true,
          () => false,
        );
        if (serving) await new Promise((r) => setTimeout(r, 250));
      }
      expect(serving, 'the edge still answers after npm was stopped').toBe(false);
      await expect(readFile(join(dir, '.running.json'), 'utf8')).rejects.toThrow(/ENOENT/);
    } finally {
      if (npm.exitCode === null) npm.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
