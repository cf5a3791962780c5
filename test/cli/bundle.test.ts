// The `tsctl` bin as npm installs it: one committed JavaScript file built from src/cli, which
// must be current, must need nothing but Node (so `npm ci --omit=dev` runs it), and must reach
// every command file.
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BUNDLE = `${ROOT}cli/dist/tsctl.mjs`;
const run = promisify(execFile);

/** Runs the build script's staleness check; answers its exit code and stderr. */
async function check(arg: string): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run(process.execPath, [`${ROOT}scripts/build-cli.mjs`, arg]);
    return { code: 0, stderr };
  } catch (err) {
    const failed = err as { code: number; stderr: string };
    return { code: failed.code, stderr: failed.stderr };
  }
}

describe('the tsctl bundle', () => {
  it('is the package bin, executable, with a node shebang', async () => {
    const pkg = JSON.parse(await readFile(`${ROOT}package.json`, 'utf8'));
    expect(pkg.bin).toEqual({ tsctl: 'cli/dist/tsctl.mjs' });
    expect((await stat(BUNDLE)).mode & 0o111).not.toBe(0);
    expect((await readFile(BUNDLE, 'utf8')).split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it('is what scripts/build-cli.mjs builds from the sources now (run it after changing src/cli)', async () => {
    expect(await check('--check')).toEqual({ code: 0, stderr: '' });
    // And the check does notice a stale file.
    const dir = await mkdtemp(join(tmpdir(), 'tsctl-stale-'));
    try {
      const stale = join(dir, 'tsctl.mjs');
      await writeFile(stale, `${await readFile(BUNDLE, 'utf8')}// edited\n`);
      const out = await check(`--check=${stale}`);
      expect(out.code).toBe(1);
      expect(out.stderr).toMatch(/is stale: run `node scripts\/build-cli\.mjs`/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('imports nothing but node:* builtins', async () => {
    const text = await readFile(BUNDLE, 'utf8');
    const specifiers = [
      ...text.matchAll(/^\s*import\s[^'"]*?from\s+["']([^"']+)["']/gm),
      ...text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g),
      ...text.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g),
    ].map((m) => m[1]);
    expect(specifiers.length).toBeGreaterThan(0);
    expect(specifiers.filter((s) => !s?.startsWith('node:'))).toEqual([]);
  });

  it('prints the help from a folder with no node_modules and only PATH set', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tsctl-alone-'));
    try {
      await copyFile(BUNDLE, join(dir, 'tsctl.mjs'));
      const { stdout, stderr } = await run(process.execPath, [join(dir, 'tsctl.mjs'), '--help'], {
        cwd: dir,
        env: { PATH: process.env['PATH'] ?? '' },
      });
      expect(stderr).toBe('');
      expect(stdout).toMatch(/^Usage: tsctl <command> \[arguments\] \[flags\]$/m);
      expect(stdout).toMatch(/^Exit codes:$/m);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reaches every command file: src/cli/commands/index.ts imports each one', async () => {
    const dir = `${ROOT}src/cli/commands/`;
    const files = (await readdir(dir)).filter((f) => f.endsWith('.ts') && f !== 'index.ts');
    const index = await readFile(`${dir}index.ts`, 'utf8');
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      expect(index, `${file} is not listed`).toContain(`from './${file.replace(/\.ts$/, '.js')}'`);
    }
  });
});
