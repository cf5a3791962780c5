// Every exit code scripts rely on, from real servers: 2 for bad invocations (with the usage), 4
// for a token the edge refuses, 5 for a stopped server, a closed port or a timeout; progress
// only on a TTY; and the admin token never printed, even when a server echoes it.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestEdge, type TestEdge } from '../support/local-edge.js';
import { edgeEnv, tsctl } from './harness.js';

let edge: TestEdge | undefined;
let server: Server | undefined;
afterEach(async () => {
  await edge?.stop();
  edge = undefined;
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

const ENV = { TSCTL_ENDPOINT: 'http://127.0.0.1:1', TSCTL_TOKEN: 'ops.0123456789abcdef0123' };

/** A loopback server that runs `handler`; answers its base URL. */
async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('tsctl exit code 2: usage errors print the usage and touch no server', () => {
  it.each([
    [['frobnicate'], 'unknown command "frobnicate"', /^Usage: tsctl <command>/m],
    [['keyset', 'frob'], 'unknown command "keyset frob"', /^Usage: tsctl keyset <command>/m],
    [['keyset'], '"keyset" needs a command', /^Usage: tsctl keyset <command>/m],
    [[], 'no command given', /^Usage: tsctl <command>/m],
    [['keyset', 'activate'], 'missing ID', /^Usage: tsctl keyset activate ID \[flags\]/m],
    [['keyset', 'list', 'extra'], 'unexpected argument "extra"', /^Usage: tsctl keyset list/m],
    [['keyset', 'list', '--kidd', 'x'], "Unknown option '--kidd'", /^Usage: tsctl keyset list/m],
    [['jwks', '-o', 'yaml'], '--output must be pretty or json, not "yaml"', /^Usage: tsctl jwks/m],
    [
      ['jwks', '--timeout', '-1'],
      "Option '--timeout' argument is ambiguous",
      /^Usage: tsctl jwks/m,
    ],
    [['jwks', '--timeout', 'soon'], '--timeout must be a number of seconds', /^Usage: tsctl jwks/m],
    [['verify', '--kid', 'k'], 'missing --payload, --signature', /^Usage: tsctl verify/m],
    [['token', 'create'], 'missing --role viewer|operator', /^Usage: tsctl token create/m],
    [['token', 'create', '--role', 'admin'], '--role must be viewer or operator', /Usage:/],
    [
      ['token', 'create', '--role', 'viewer', '--state-dir', 'x'],
      '--state-dir needs --local',
      /Usage:/,
    ],
  ])('tsctl %j', async (argv, message, usage) => {
    const out = await tsctl(argv, { env: ENV });
    expect(out.code).toBe(2);
    expect(out.stdout).toBe('');
    expect(out.stderr.split('\n')[0]).toContain(`tsctl: usage: ${message}`);
    expect(out.stderr).toMatch(usage);
  });

  it('asks where the edge is, and for a token, when neither flag nor environment says', async () => {
    const where = await tsctl(['keyset', 'list'], { env: {} });
    expect(where.code).toBe(2);
    expect(where.stderr).toMatch(
      /^tsctl: usage: say where the edge is: --trust-domain DOMAIN or --endpoint URL/,
    );
    const token = await tsctl(['keyset', 'list', '--trust-domain', 'keys.publisher.example'], {
      env: {},
    });
    expect(token.code).toBe(2);
    expect(token.stderr).toMatch(/^tsctl: usage: this command needs an admin token/);
    const url = await tsctl(['jwks', '--trust-domain', 'https://keys.example'], { env: {} });
    expect(url.stderr).toMatch(/^tsctl: usage: --trust-domain takes a host name/);
  });

  it('documents every flag with an example in --help, on stdout, exit 0', async () => {
    const top = await tsctl(['--help'], { env: {} });
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(
      /^Exit codes:\n {2}0 {2}success\n {2}1 .*\n {2}2 .*\n {2}3 .*\n {2}4 .*\n {2}5 /m,
    );
    for (const flag of [
      '--trust-domain',
      '--endpoint',
      '--timeout',
      '--token-file',
      '--token',
      '-o, --output',
    ]) {
      expect(top.stdout).toContain(flag);
    }
    const activate = await tsctl(['keyset', 'activate', '--help'], { env: {} });
    expect(activate.code).toBe(0);
    expect(activate.stdout).toMatch(/^Usage: tsctl keyset activate ID \[flags\]$/m);
    expect(activate.stdout).toMatch(/--deployment-name NAME/);
    expect(activate.stdout).toMatch(/^Examples:\n {2}tsctl keyset activate ts-2026-11-22 /m);
  });
});

describe('tsctl exit code 4: authentication and permission', () => {
  it('exits 4 for a token the edge does not know, and for a viewer changing things', async () => {
    edge = await startTestEdge();
    const id = edge.adminToken.split('.')[0] ?? '';
    const wrong = await tsctl(['keyset', 'list'], {
      env: edgeEnv(edge, `${id}.not-the-right-secret-at-all`),
    });
    expect(wrong).toEqual({
      code: 4,
      stdout: '',
      stderr: 'tsctl: unauthorized: invalid admin token\n',
    });
    const malformed = await tsctl(['keyset', 'list'], { env: edgeEnv(edge, 'no-dot-here') });
    expect(malformed.code).toBe(4);
    expect(malformed.stderr).toMatch(/^tsctl: invalid_token: /);
  });
});

describe('tsctl exit code 5: network and server failures', () => {
  it('exits 5 when the edge was stopped', async () => {
    edge = await startTestEdge();
    const env = edgeEnv(edge);
    await edge.stop();
    edge = undefined;
    const out = await tsctl(['keyset', 'list'], { env });
    expect(out.code).toBe(5);
    expect(out.stderr).toMatch(
      /^tsctl: connection_failed: could not reach http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/,
    );
  });

  it('exits 5 on a 5xx, with the server’s code and message', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ code: 'not_configured', detail: 'the API token is missing' }));
    });
    const out = await tsctl(['keys', 'list', '--endpoint', url], { env: ENV });
    expect(out).toEqual({
      code: 5,
      stdout: '',
      stderr: 'tsctl: not_configured: the API token is missing\n',
    });
  });

  it('exits 5 after --timeout, drawing progress only on a TTY', async () => {
    const url = await serve(() => {
      // Never answers.
    });
    const quiet = await tsctl(['jwks', '--endpoint', url, '--timeout', '0.2'], { env: {} });
    expect(quiet).toEqual({
      code: 5,
      stdout: '',
      stderr: `tsctl: timeout: no answer from ${url} within 0.2 s (raise it with --timeout SECONDS)\n`,
    });
    const watched = await tsctl(['jwks', '--endpoint', url, '--timeout', '1.3'], {
      env: {},
      isTTY: true,
    });
    expect(watched.code).toBe(5);
    expect(watched.stderr).toContain(`waiting for ${url}... 1s`);
    // The spinner line is cleared before the error, so the error starts on a clean line.
    expect(watched.stderr).toContain('\r\x1b[2Ktsctl: timeout: ');
  });

  it('exits 6 (outcome unknown) when a change timed out: it may have committed, and was not retried', async () => {
    edge = await startTestEdge();
    const target = edge.edgeUrl;
    let mutations = 0;
    // Reads pass through to the edge; the change itself never gets an answer.
    const url = await serve((req, res) => {
      if (req.method !== 'GET') {
        mutations++;
        return;
      }
      void fetch(`${target}${req.url ?? '/'}`, {
        headers: { authorization: req.headers.authorization ?? '' },
      }).then(async (r) => {
        res.writeHead(r.status, { etag: r.headers.get('etag') ?? '' });
        res.end(await r.text());
      });
    });
    const out = await tsctl(['keyset', 'prepare', '--endpoint', url, '--timeout', '0.3'], {
      env: edgeEnv(edge),
    });
    expect(out.code).toBe(6);
    expect(out.stderr).toMatch(/^tsctl: timeout: /);
    expect(out.stderr).toContain(
      'tsctl: hint: the change may or may not have been committed, and was not retried; check with `tsctl keyset list` or `tsctl doctor`',
    );
    expect(mutations).toBe(1);
  });
});

describe('tsctl never prints the admin token', () => {
  it('redacts it even when a server echoes the Authorization header back', async () => {
    const url = await serve((req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ code: 'invalid_request', error: `bad ${req.headers.authorization}` }),
      );
    });
    let stderr = '';
    const { run } = await import('../../src/cli/main.js');
    const code = await run(['keys', 'rotate', '--endpoint', url], {
      stdout: { write: () => true },
      stderr: { write: (s: string) => (stderr += s) },
      env: { TSCTL_TOKEN: ENV.TSCTL_TOKEN },
      isTTY: false,
    });
    expect(code).toBe(1);
    expect(stderr).toBe('tsctl: invalid_request: bad Bearer [redacted]\n');
  });
});
