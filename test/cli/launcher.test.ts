// The `tsctl` bin as npm installs it: the launcher registers tsx and runs the TypeScript sources,
// from any working directory.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('the tsctl launcher', () => {
  it('is the package bin and prints the help from another working directory', async () => {
    const pkg = JSON.parse(await readFile(`${ROOT}package.json`, 'utf8'));
    expect(pkg.bin).toEqual({ tsctl: 'cli/tsctl.mjs' });
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [`${ROOT}cli/tsctl.mjs`, '--help'],
      { cwd: tmpdir(), env: { PATH: process.env['PATH'] ?? '' } },
    );
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^Usage: tsctl <command> \[arguments\] \[flags\]$/m);
    expect(stdout).toMatch(/^Exit codes:$/m);
  });
});
