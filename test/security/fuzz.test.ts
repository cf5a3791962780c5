// A property-based fuzz of the whole app: generated requests (fuzz-arbitraries.ts) go straight to
// `handle` through the in-process harness (test/support/app.ts), with the services of a running
// local edge (edge stores read from the local Fastly API's state, writes through its HTTP API, the
// only socket), and every answer must keep the invariants: no 5xx, no stack
// trace, no secret in the response, the log or the audit trail, each answer either public (CORS)
// or private (no-store, nosniff), and the signing stores unchanged by every refused request and by
// every request without the operator's credential.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/core/auth/admin-token.js';
import { installAdminToken } from '../../src/platform/node/provision.js';
import { localServices } from '../../src/platform/node/services.js';
import { testApp, type TestApp } from '../support/app.js';
import { startTestEdge, type TestEdge } from '../support/local-edge.js';
import { buildRequest, fuzzCase, isOperator, type FuzzTokens } from './fuzz-arbitraries.js';
import {
  base64UrlOf,
  DEV_SEED,
  leaksIn,
  signingKeySecrets,
  stackTraceIn,
  storeSnapshot,
  Tally,
  type Secret,
} from './support/invariants.js';

// Fixed so a failure replays; fast-check prints the seed and the shrunk counterexample.
const SEED = Number(process.env['FUZZ_SEED'] ?? 20_261_122);
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 1000);
const PUBLIC_PATHS = new Set([
  '/.well-known/trusted-server.json',
  '/.well-known/jwks.json',
  '/.well-known/trusted-server-key-log.json',
  '/verify-signature',
]);
/** Every deployment's documents (and key log) are public too (`/.well-known/deployments/NAME/...`). */
const isPublic = (path: string): boolean =>
  PUBLIC_PATHS.has(path) ||
  /^\/\.well-known\/deployments\/[^/]+\/(trusted-server|jwks|key-log)\.json$/.test(path);

let edge: TestEdge;
let app: TestApp;
let tokens: FuzzTokens;
const logLines: string[] = [];
const auditLines: string[] = [];
/** Every secret seen so far; private keys stay on the list after their key set is removed. */
const secrets = new Map<string, Secret>();
/** The stores after the previous request: nothing else writes, so it is the next one's "before". */
let lastSnapshot: string;
const tally = new Tally();
let seconds = 0;

beforeAll(async () => {
  edge = await startTestEdge({
    configure: (s) => ({
      ...s,
      admin: { ...s.admin, requests_per_minute: 100_000, auth_failures_per_minute: 100_000 },
    }),
  });
  // The same wiring as the Node edge, but with a log and an audit sink the test can read.
  const services = localServices(
    edge.settings,
    edge.api.state,
    {
      log: (level, event, fields) =>
        void logLines.push(JSON.stringify({ level, event, ...fields })),
    },
    { write: async (record) => void auditLines.push(JSON.stringify(record)) },
  );
  app = testApp(services, { ip: '198.51.100.7' });
  const [operatorId = '', operatorSecret = ''] = edge.adminToken.split('.');
  const viewerSecret = 'fuzz-viewer-secret-0123456789abcdef';
  await installAdminToken(edge.client, edge.stores, {
    id: 'fuzz-viewer',
    secret: viewerSecret,
    role: 'viewer',
  });
  tokens = { operatorId, operatorSecret, viewer: `fuzz-viewer.${viewerSecret}` };
  for (const secret of [
    { name: 'operator token secret', value: operatorSecret },
    { name: 'operator token hash', value: await sha256Hex(operatorSecret) },
    { name: 'viewer token secret', value: viewerSecret },
    { name: 'Fastly API token', value: edge.api.token },
    { name: 'dev seed', value: DEV_SEED },
    { name: 'dev seed (base64url)', value: base64UrlOf(DEV_SEED) },
  ])
    secrets.set(secret.name, secret);
  lastSnapshot = await storeSnapshot(edge.client, edge.stores);
  rememberSigningKeys(lastSnapshot);
});

afterAll(async () => {
  // One line for the closing note; `leaks` is 0 on every passing run (a leak fails it).
  console.log(
    `fuzz: ${tally.tried} requests, ${tally.refused} refused, ${tally.leaks} leaks, ` +
      `${tally.serverErrors} server errors (${RUNS} runs, seed ${SEED}, ${seconds.toFixed(1)} s)`,
  );
  await edge?.stop();
});

function rememberSigningKeys(snapshot: string): void {
  for (const s of signingKeySecrets(edge.api.state, edge.stores, snapshot)) secrets.set(s.name, s);
}

/** The path as the router sees it (percent-decoded), to tell a public route from the rest. */
function decodedPath(url: string): string {
  const { pathname } = new URL(url);
  try {
    return decodeURIComponent(pathname);
  } catch {
    return pathname;
  }
}

describe('the whole app under generated hostile requests', () => {
  it('never answers 5xx, a stack trace or a secret, and changes nothing when it refuses', async () => {
    const started = performance.now();
    const property = fc.asyncProperty(fuzzCase, async (c) => {
      const before = lastSnapshot;
      const logStart = logLines.length;
      const auditStart = auditLines.length;
      const request = buildRequest(c, tokens);
      // The raw target as a Node edge would pass it, so the canonical-path rule sees every
      // spelling the generator makes, not the URL parser's normalised one.
      const target = c.path.startsWith('/') ? c.path : `/${c.path}`;
      const response = await app.fetch(request, { ip: '198.51.100.7', target });
      const text = await response.text();
      const after = await storeSnapshot(edge.client, edge.stores);
      lastSnapshot = after;
      rememberSigningKeys(after);
      tally.record(response.status);
      const leaks = leaksIn(
        {
          body: text,
          headers: JSON.stringify([...response.headers]),
          log: logLines.slice(logStart).join('\n'),
          audit: auditLines.slice(auditStart).join('\n'),
        },
        [...secrets.values()],
      );
      tally.leaks += leaks.length;

      expect(response.status, text).toBeLessThan(500);
      expect(stackTraceIn(text)).toBeNull();
      expect(leaks).toEqual([]);
      if (response.headers.has('access-control-allow-origin')) {
        expect(isPublic(decodedPath(request.url)), 'CORS off the public routes').toBe(true);
      } else {
        expect(response.headers.get('cache-control')).toBe('no-store');
        expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      }
      if (response.status >= 400 || !isOperator(c)) expect(after, 'stores').toBe(before);
    });
    try {
      await fc.assert(property, { numRuns: RUNS, seed: SEED });
    } finally {
      seconds = (performance.now() - started) / 1000;
    }
    expect(tally.refused, 'the mix is mostly refusals').toBeGreaterThan(tally.tried / 2);
    expect(tally.refused, 'and some requests succeed').toBeLessThan(tally.tried);
  }, 60_000);
});
