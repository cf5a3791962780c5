// The README read top to bottom by a new user: every ```sh block, in document order, run by one
// bash (`set -euo pipefail`) so that what a block defines (TOKEN, TSCTL_ENDPOINT, NEW, ...) carries
// to the next, against a fresh `npm start` (the real src/platform/node/main.ts) of its own.
//
// The reader's world, reproduced: the blocks run in a scratch folder laid out like a clone
// (package.json, node_modules and cli/ linked to this repository, so `npx tsctl` resolves the
// repository's own bin and nothing else; npm is offline), whose `.fastly-local/` is the state
// folder of the test's instance. The instance listens on free ports, so the README's
// `127.0.0.1:7676` and `127.0.0.1:7677` are rewritten to them: that is the only change made to
// any block. Its settings are the repository's trusted-server.toml with a short activation dwell
// (20 s; the key documents' cache lifetime, which the dwell must exceed, shortened to match) and a
// higher admin rate limit, so the planned-rotation runbook waits seconds, not 4 minutes: it still
// sleeps for the time the server names (longer than the runbook's own steps take, so the wait is
// exercised), and activation is still refused sooner.
//
// A block that cannot run says so in its first line (`# not run by the README test: <reason>`),
// where a reader sees it; there are few, each with a reason. The deployment block needs a Fastly
// account; its rehearsal block, which follows it, runs the same `tsctl setup` against the
// instance's local Fastly API.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fencedBlocks, NOT_RUN, readDoc, type FencedBlock } from '../support/readme.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** At most this many blocks may be excluded by an annotation: the README's examples run. */
const MAX_EXCLUDED = 3;

/** Shell fences other than `sh` that another test runs, so none can hide from this one. */
const OTHER_SHELL_BLOCKS: Record<string, string> = {
  // Trusted Server's rotate-keys.sh, with its 30-day sleep: test/e2e/trusted-server-script.test.ts.
  bash: '#!/bin/bash\nEDGE=${EDGE:-http://127.0.0.1:7676}',
};

interface Plan {
  run: FencedBlock[];
  excluded: { block: FencedBlock; reason: string }[];
}

function plan(blocks: FencedBlock[]): Plan {
  const out: Plan = { run: [], excluded: [] };
  for (const block of blocks.filter((b) => b.lang === 'sh')) {
    const reason = NOT_RUN.exec(block.body.split('\n')[0] ?? '')?.[1];
    if (reason !== undefined) out.excluded.push({ block, reason });
    else out.run.push(block);
  }
  return out;
}

/** The real `npx` on the PATH the test was started with. */
function realNpx(): string {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    const candidate = join(dir, 'npx');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error('npx is not on the PATH');
}

let readme: string;
let npx = '';
let child: ChildProcess | undefined;
let scratch: string | undefined;
let edge = '';
let api = '';
let serverOutput = '';

beforeAll(async () => {
  readme = await readDoc('README.md');
  scratch = await mkdtemp(join(tmpdir(), 'tsk-readme-'));
  for (const entry of ['package.json', 'node_modules', 'cli', 'fastly.toml']) {
    await symlink(join(ROOT, entry), join(scratch, entry));
  }
  const settings = parse(await readFile(join(ROOT, 'trusted-server.toml'), 'utf8')) as Record<
    string,
    Record<string, unknown>
  >;
  settings['admin'] = { ...settings['admin'], requests_per_minute: 100_000 };
  settings['key_documents'] = { max_age_seconds: 1, stale_while_revalidate_seconds: 1 };
  settings['schedule'] = { activation_dwell_seconds: 20 };
  await writeFile(join(scratch, 'trusted-server.toml'), stringify(settings));
  // The reader's `npx tsctl`, without npx's start-up (about 1.7 s a call, some 30 calls): the
  // blocks find this `npx` first on their PATH. It runs the clone's bin, which is what the real
  // npx resolves `tsctl` to here (checked by the script before the first block); anything else
  // goes to the real npx.
  npx = realNpx();
  await mkdir(join(scratch, '.readme-bin'));
  const shim = join(scratch, '.readme-bin', 'npx');
  await writeFile(
    shim,
    [
      '#!/bin/bash',
      `if [ "\${1:-}" = tsctl ]; then shift; exec "${process.execPath}" "${join(scratch, 'cli', 'dist', 'tsctl.mjs')}" "$@"; fi`,
      `exec "${npx}" "$@"`,
      '',
    ].join('\n'),
  );
  await chmod(shim, 0o755);

  child = spawn(process.execPath, ['--import', 'tsx', 'src/platform/node/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      TSK_STATE_DIR: join(scratch, '.fastly-local'),
      TSK_SETTINGS: join(scratch, 'trusted-server.toml'),
      TSK_EDGE_PORT: '0',
      TSK_API_PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const started = child;
  started.stderr?.on('data', (d: Buffer) => (serverOutput += d.toString()));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    started.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      serverOutput += d.toString();
      const e = /edge \(the app\):\s+http:\/\/(\S+)/.exec(out)?.[1];
      const a = /local Fastly API:\s+http:\/\/(\S+)/.exec(out)?.[1];
      if (e && a) {
        edge = e;
        api = a;
        resolve();
      }
    });
    started.once('exit', (code) =>
      reject(new Error(`npm start exited (${code}): ${serverOutput}`)),
    );
  });
}, 120_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** Runs `script` with bash in the scratch folder; resolves with its exit code and output. */
function bash(script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    // The reader's shell: none of the test runner's own tsctl, Fastly or local-edge settings.
    if (v !== undefined && !/^(TSCTL_|TSK_|FASTLY_)/.test(k)) env[k] = v;
  }
  env['NPM_CONFIG_OFFLINE'] = 'true';
  env['PATH'] = `${join(scratch ?? '', '.readme-bin')}${delimiter}${env['PATH'] ?? ''}`;
  env['NPM_CONFIG_UPDATE_NOTIFIER'] = 'false';
  return new Promise((resolve, reject) => {
    const p = spawn('bash', ['-c', script], {
      cwd: scratch,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 400_000);
    p.once('error', reject);
    p.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("the README's shell blocks", () => {
  it('are all run, or excluded in the README itself with a reason (few)', () => {
    const { run, excluded } = plan(fencedBlocks(readme));
    expect(run.length).toBeGreaterThanOrEqual(8);
    expect(excluded.length).toBeLessThanOrEqual(MAX_EXCLUDED);
    for (const { block, reason } of excluded) {
      expect(reason.trim().length, `README line ${block.line}`).toBeGreaterThan(15);
    }
    // The other shell fences are exactly the ones another test runs.
    const others = fencedBlocks(readme).filter((b) =>
      ['bash', 'shell', 'console', 'zsh', 'shell-session'].includes(b.lang),
    );
    expect(others.map((b) => b.lang)).toEqual(Object.keys(OTHER_SHELL_BLOCKS));
    for (const b of others) expect(b.body.startsWith(OTHER_SHELL_BLOCKS[b.lang] ?? '?')).toBe(true);
  });

  it('run in order, in one shell, against a fresh npm start', async () => {
    const { run } = plan(fencedBlocks(readme));
    // The real npx resolves `tsctl` to the clone's own bin, as the README says, and the shim
    // that runs it for the blocks answers the same.
    const script = [
      'set -euo pipefail',
      `test "$("${npx}" tsctl --version)" = "$(npx tsctl --version)" || { echo 'npx tsctl is not the clone bin' >&2; exit 1; }`,
    ];
    run.forEach((block, i) => {
      const body = block.body.replaceAll('127.0.0.1:7676', edge).replaceAll('127.0.0.1:7677', api);
      const marker = `printf '\\n== README block %d (line %d) %s\\n' ${i + 1} ${block.line} "$(date +%s)"`;
      script.push(marker, `${marker} >&2`);
      script.push(body);
    });
    script.push("printf '\\n== README: every block ran\\n'");
    const result = await bash(script.join('\n'));
    const context = `stdout:\n${result.stdout}\nstderr:\n${result.stderr}\nserver:\n${serverOutput}`;
    expect(result.code, context).toBe(0);
    expect(result.stdout).toContain('== README: every block ran');
    for (let i = 1; i <= run.length; i++) expect(result.stdout).toContain(`== README block ${i} (`);
    // What the examples promise, seen: the quick start's round trip verifies, and so does the
    // partners' openssl recipe; no admin answer was a refusal.
    expect(result.stdout).toContain('"verified":true');
    expect(result.stdout).toContain('Signature Verified Successfully');
    // The deployment rehearsal: setup linked the stores, and its second run changed nothing.
    expect(result.stdout, context).toMatch(/linked/);
    expect(result.stdout, context).toContain('Nothing changed: everything was already set up.');
    expect(result.stdout, context).not.toContain('"success":false');
    expect(result.stdout, context).not.toContain('"verified":false');
    expect(result.stderr, context).not.toMatch(/^tsctl: (?!warning)/m);
  }, 420_000);
});
