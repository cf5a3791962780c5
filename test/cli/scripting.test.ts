// tsctl as a scripting tool: `--version`, every failure answered as JSON on stdout with `-o json`,
// and a rate limit (429) that gets its own exit code and says when to retry.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { retryAfterSeconds } from '../../src/cli/client.js';
import { EXIT } from '../../src/cli/errors.js';
import { tsctl } from './harness.js';

const VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
const TOKEN = 'ops.0123456789abcdef0123';

let server: Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

/** A loopback edge that answers every request with `answer`; resolves its base URL. */
async function serve(answer: (res: ServerResponse) => void): Promise<string> {
  server = createServer((_req, res) => answer(res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function problem(res: ServerResponse, status: number, body: object, headers = {}): void {
  res.writeHead(status, { 'content-type': 'application/problem+json', ...headers });
  res.end(JSON.stringify(body));
}

describe('tsctl --version', () => {
  it.each([[['--version']], [['-V']], [['keyset', 'list', '--version']]])(
    'tsctl %j prints the package version and touches no server',
    async (argv) => {
      const out = await tsctl(argv, { env: { TSCTL_ENDPOINT: 'http://127.0.0.1:1' } });
      expect(out).toEqual({ code: 0, stdout: `tsctl ${VERSION}\n`, stderr: '' });
    },
  );

  it('answers JSON with -o json', async () => {
    const out = await tsctl(['--version', '-o', 'json']);
    expect(JSON.parse(out.stdout)).toEqual({ name: 'tsctl', version: VERSION });
  });
});

describe('-o json: every failure is one JSON object on stdout', () => {
  it('a usage error', async () => {
    const out = await tsctl(['keyset', 'activate', '-o', 'json']);
    expect(out.code).toBe(EXIT.usage);
    expect(JSON.parse(out.stdout)).toEqual({
      error: { code: 'usage', message: 'missing ID', exit_code: 2 },
    });
    expect(out.stderr).toContain('tsctl: usage: missing ID');
  });

  it.each([['--output=json'], ['-ojson']])('a usage error with %s', async (flag) => {
    const out = await tsctl(['frobnicate', flag]);
    expect(JSON.parse(out.stdout).error.code).toBe('usage');
  });

  it("a server's refusal, with its status and its answer", async () => {
    const body = { code: 'invalid_transition', detail: 'cannot taint active key set' };
    const url = await serve((res) => problem(res, 409, body));
    const out = await tsctl(['keyset', 'taint', 'ts-2026-01-01', '-o', 'json'], {
      env: { TSCTL_ENDPOINT: url, TSCTL_TOKEN: TOKEN },
    });
    expect(out.code).toBe(EXIT.refused);
    expect(JSON.parse(out.stdout)).toEqual({
      error: {
        code: 'invalid_transition',
        message: 'cannot taint active key set',
        exit_code: 1,
        status: 409,
        response: body,
      },
    });
  });

  it('a connection failure', async () => {
    const out = await tsctl(['jwks', '-o', 'json'], {
      env: { TSCTL_ENDPOINT: 'http://127.0.0.1:1' },
    });
    expect(out.code).toBe(EXIT.failure);
    const { error } = JSON.parse(out.stdout);
    expect(error).toMatchObject({ code: 'connection_failed', exit_code: 5 });
  });

  it('without -o json, stdout stays empty on failure', async () => {
    const out = await tsctl(['jwks'], { env: { TSCTL_ENDPOINT: 'http://127.0.0.1:1' } });
    expect(out.stdout).toBe('');
    expect(out.code).toBe(EXIT.failure);
  });
});

describe('rate limiting: exit 8 with the time to retry', () => {
  it('takes Retry-After seconds into the message and the JSON', async () => {
    const url = await serve((res) =>
      problem(
        res,
        429,
        { code: 'rate_limited', detail: 'more than 60 admin requests a minute' },
        {
          'retry-after': '42',
        },
      ),
    );
    const out = await tsctl(['keyset', 'list', '-o', 'json'], {
      env: { TSCTL_ENDPOINT: url, TSCTL_TOKEN: TOKEN },
    });
    expect(out.code).toBe(EXIT.rateLimited);
    expect(out.code).toBe(8);
    expect(out.stderr).toContain(
      'tsctl: rate_limited: more than 60 admin requests a minute (retry after 42 s)',
    );
    expect(JSON.parse(out.stdout).error).toMatchObject({
      code: 'rate_limited',
      exit_code: 8,
      status: 429,
      retry_after_seconds: 42,
    });
  });

  it('a refusal that says when it will be allowed (409 with Retry-After) gives the seconds too', async () => {
    // The README's planned-rotation runbook sleeps for exactly this before activating.
    const url = await serve((res) =>
      problem(
        res,
        409,
        { code: 'activation_too_early', detail: 'published for less than the dwell' },
        { 'retry-after': '19' },
      ),
    );
    const out = await tsctl(['keyset', 'list', '-o', 'json'], {
      env: { TSCTL_ENDPOINT: url, TSCTL_TOKEN: TOKEN },
    });
    expect(out.code).toBe(EXIT.refused);
    expect(JSON.parse(out.stdout).error).toMatchObject({
      code: 'activation_too_early',
      exit_code: 1,
      status: 409,
      retry_after_seconds: 19,
    });
  });

  it('without Retry-After it still exits 8 and says to wait', async () => {
    const url = await serve((res) =>
      problem(res, 429, { code: 'rate_limited', detail: 'slow down' }),
    );
    const out = await tsctl(['jwks'], { env: { TSCTL_ENDPOINT: url } });
    expect(out.code).toBe(8);
    expect(out.stderr).toContain('tsctl: hint: wait a minute before retrying');
  });

  it('reads Retry-After as seconds or as an HTTP date, and ignores garbage', () => {
    const now = Date.parse('2026-12-02T10:00:00Z');
    expect(retryAfterSeconds('7', now)).toBe(7);
    expect(retryAfterSeconds('Wed, 02 Dec 2026 10:01:30 GMT', now)).toBe(90);
    expect(retryAfterSeconds('Wed, 02 Dec 2026 09:00:00 GMT', now)).toBe(0);
    expect(retryAfterSeconds('-3', now)).toBeUndefined();
    expect(retryAfterSeconds('soon', now)).toBeUndefined();
    expect(retryAfterSeconds(null, now)).toBeUndefined();
  });
});
