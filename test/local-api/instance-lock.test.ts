// One local Fastly API per state directory: a second one (in this process or another) is refused
// with the holder's pid and address; a claim left by a dead process is taken over; close gives
// the directory up.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RUNNING_FILE, StateDirInUseError, startLocalApi } from '../../src/local-api/index.js';
import { configStore, startApi, tempDir } from './helpers.js';

const claimOf = (dir: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(dir, RUNNING_FILE), 'utf8')) as Record<string, unknown>;

describe('local API: one instance per state directory', () => {
  it('refuses a second instance in the same process until the first closes', async () => {
    const dir = tempDir();
    const first = await startApi(dir);
    await configStore(first);
    expect(claimOf(dir)).toMatchObject({ pid: process.pid, api_url: first.url });
    const second = startLocalApi({ stateDir: dir, port: 0 });
    await expect(second).rejects.toBeInstanceOf(StateDirInUseError);
    await expect(startLocalApi({ stateDir: dir, port: 0 })).rejects.toThrow(
      `another local edge (pid ${process.pid}, ${first.url}) is using the state directory ${dir}`,
    );
    await first.close();
    expect(existsSync(join(dir, RUNNING_FILE))).toBe(false);
    const third = await startApi(dir);
    expect(claimOf(dir)).toMatchObject({ api_url: third.url });
  });

  it('refuses while another live process holds the claim, and takes it over once it died', async () => {
    const dir = tempDir();
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], {
      stdio: 'ignore',
    });
    try {
      const pid = holder.pid ?? 0;
      writeFileSync(
        join(dir, RUNNING_FILE),
        JSON.stringify({ pid, started_at: '2026-12-01T00:00:00Z', api_url: 'http://127.0.0.1:9' }),
      );
      await expect(startLocalApi({ stateDir: dir, port: 0 })).rejects.toThrow(
        `another local edge (pid ${pid}, http://127.0.0.1:9)`,
      );
      holder.kill('SIGKILL');
      await once(holder, 'exit');
      // kill -9 leaves the claim behind: the next start takes it over.
      const api = await startApi(dir);
      expect(claimOf(dir)).toMatchObject({ pid: process.pid, api_url: api.url });
    } finally {
      if (holder.exitCode === null) holder.kill('SIGKILL');
    }
  });

  it('ignores an unreadable claim file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, RUNNING_FILE), 'not json');
    const api = await startApi(dir);
    expect(claimOf(dir)).toMatchObject({ pid: process.pid, api_url: api.url });
  });

  it('gives the directory back as it was when it cannot listen, so the next start works', async () => {
    const dir = tempDir();
    const busy = await startApi(tempDir());
    const port = Number(new URL(busy.url).port);
    await expect(startLocalApi({ stateDir: dir, port })).rejects.toThrow(/cannot listen/);
    expect(existsSync(join(dir, RUNNING_FILE))).toBe(false);
    await startApi(dir);
  });
});
