// Runs tsctl in-process, the way src/cli/bin.ts does, and captures what an operator would see.
// Every run also checks the rule that output never contains the admin token it was given.
import { expect } from 'vitest';
import { run, type CliIo } from '../../src/cli/main.js';
import type { TestEdge } from '../support/local-edge.js';

/** What one run printed and answered. */
export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of one run. */
export interface RunOptions {
  env?: Record<string, string | undefined>;
  isTTY?: boolean;
  fetch?: typeof fetch;
  /** What standard input holds (UTF-8); absent: tsctl has no standard input. */
  stdin?: string;
}

/** Runs `tsctl ...argv`; fails the test if the admin token shows up in the output. */
export async function tsctl(argv: string[], options: RunOptions = {}): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  const env = options.env ?? {};
  const io: CliIo = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env,
    isTTY: options.isTTY ?? false,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.stdin !== undefined
      ? { stdin: async () => new TextEncoder().encode(options.stdin) }
      : {}),
  };
  const code = await run(argv, io);
  const token = env['TSCTL_TOKEN'];
  const tokenFlag = argv.indexOf('--token');
  for (const secret of [token, tokenFlag >= 0 ? argv[tokenFlag + 1] : undefined]) {
    if (secret) expect(stdout + stderr).not.toContain(secret);
  }
  return { code, stdout, stderr };
}

/** The environment that points tsctl at a test edge with its operator token. */
export function edgeEnv(edge: TestEdge, token = edge.adminToken): Record<string, string> {
  return { TSCTL_ENDPOINT: edge.edgeUrl, TSCTL_TOKEN: token };
}

/** The keyset routes' base path for the default deployment. */
export const KEYSETS = '/admin/deployments/default/keysets';

/** The development key every fresh local edge starts with. */
export const DEV_KID = 'ts-2025-10-A';
