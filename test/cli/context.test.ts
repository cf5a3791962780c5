// Where tsctl sends requests and which token it sends: flags, then the environment, then the
// trust domain; a token file's surrounding whitespace is ignored; conflicting sources refused.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveEndpoint, resolveToken } from '../../src/cli/context.js';
import { CliError, UsageError } from '../../src/cli/errors.js';

const TOKEN = 'ops-1.0123456789abcdef0123456789';

describe('tsctl endpoint and token resolution', () => {
  it('uses https://<trust-domain> unless --endpoint or TSCTL_ENDPOINT names a URL', () => {
    expect(resolveEndpoint(undefined, 'keys.example.com', {})).toBe('https://keys.example.com');
    const env = { TSCTL_ENDPOINT: 'http://127.0.0.1:7676' };
    expect(resolveEndpoint(undefined, undefined, env)).toBe('http://127.0.0.1:7676/');
    expect(resolveEndpoint('http://10.0.0.1:8080/base', 'keys.example.com', env)).toBe(
      'http://10.0.0.1:8080/base',
    );
    expect(() => resolveEndpoint('ftp://x', undefined, {})).toThrow(UsageError);
    // An exported TSCTL_ENDPOINT must not silently redirect a command aimed at a typed domain.
    expect(() => resolveEndpoint(undefined, 'keys.example.com', env)).toThrow(/disagree/);
    expect(() => resolveEndpoint(undefined, undefined, {})).toThrow(UsageError);
  });

  it('reads the token from --token, --token-file (trimmed) or TSCTL_TOKEN, never two flags at once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tsctl-'));
    try {
      const file = join(dir, 'token');
      await writeFile(file, `  ${TOKEN}\n\n`);
      expect(await resolveToken(undefined, file, { TSCTL_TOKEN: 'x.y' })).toBe(TOKEN);
      expect(await resolveToken(TOKEN, undefined, { TSCTL_TOKEN: 'x.y' })).toBe(TOKEN);
      expect(await resolveToken(undefined, undefined, { TSCTL_TOKEN: ` ${TOKEN} ` })).toBe(TOKEN);
      await expect(resolveToken(TOKEN, file, {})).rejects.toThrow(UsageError);
      await expect(resolveToken(undefined, join(dir, 'missing'), {})).rejects.toThrow(
        /cannot read --token-file .*missing \(ENOENT\)/,
      );
      // A malformed token is an authentication failure (exit 4), and its value is never echoed.
      const malformed = await resolveToken('not a token', undefined, {}).catch((e: unknown) => e);
      expect(malformed).toBeInstanceOf(CliError);
      expect(malformed).toMatchObject({ code: 'invalid_token', exitCode: 4 });
      expect((malformed as Error).message).not.toContain('not a token');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
