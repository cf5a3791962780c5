// The Fastly build's warm-up. js-compute runs the bundle's top level once at build time (Wizer)
// and snapshots the engine's heap into the wasm; Compute then starts every request from that
// snapshot. SpiderMonkey compiles a function's bytecode lazily, at its first call, so whatever
// the top level did not run is compiled again in every fresh instance: measured in the engine,
// a fresh instance paid about 25 ms of such first use on sign and verify (zod schemas, the
// keyring reading, the admin gate's hashing, Ed25519's decoding) against 2-6 ms of arithmetic
// (docs/performance.md, "Fresh-instance warm-up").
//
// `warmUp` runs the hot paths once at the top level of src/platform/fastly/index.ts, so their
// compiled code is in the snapshot: routing, the admin gate, the key documents as stored,
// `/verify-signature` and `/admin/keys/sign`, through the same functions the routes use.
// No `Request` or `Response` can be made at build time (the engine traps), so each route is
// driven up to its answer as plain data (`verifyOutcome`, `signTestAnswer`,
// `storedDocumentAnswer`) with a Request-shaped object, and no host call is made: the services
// are in-memory fakes built here and dropped when it ends.
//
// What it may touch, and what it must not:
// - Only public material: the key is RFC 8032 §7.1 TEST 1's published seed, the admin token is
//   a made-up one that exists only in the fake store below. No store of this project is read.
// - No module-level state may keep anything from it (rate limits, penalty boxes, caches, audit
//   lines): it uses its own rate limiter, logger and audit sink, and none of the module-level
//   caches of the edge code (test/http/warm-up.test.ts checks each of them after a warm-up).
//   The one module-level value it fills on purpose is the Ed25519 base-point table, which the
//   entry builds anyway and which holds public constants only.
import { authenticate, tokenRecord } from '../core/auth/admin-token.js';
import { publicKeyOf, sign, verify } from '../core/crypto/ed25519.js';
import { TskError } from '../core/errors.js';
import { derivedItems, loadKeyring } from '../core/keyring/store-items.js';
import type { AuditRecord, RateLimiter } from '../core/ports.js';
import { publicJwk } from '../core/keys/jwk.js';
import { encodeSeed } from '../core/keys/seed-encoding.js';
import type { Settings } from '../core/settings.js';
import { admitAdmin } from './admin-gate.js';
import { auditRecord } from './audit.js';
import { isAdminPath, nonCanonical, requestPath } from './canonical-path.js';
import { requestIdFor, type RequestContext } from './context.js';
import { matchRoute, pathSegments } from './router.js';
import { ROUTES } from './routes.js';
import { signTestAnswer } from './routes/admin-keys.js';
import { storedDocumentAnswer } from './routes/discovery.js';
import { verifyOutcome } from './routes/verify.js';
import { STORE_NAMES, type Services } from './services.js';

/** RFC 8032 §7.1 TEST 1: a published test vector, not a key of any store. */
export const WARM_UP_SEED_HEX = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
const WARM_UP_PUBLIC_HEX = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
/** The kid the warm-up publishes the test vector under, in its own in-memory store only. */
export const WARM_UP_KID = 'warm-up-rfc8032-test-1';
/** A token that exists only in the warm-up's in-memory secret store. */
const WARM_UP_TOKEN = { id: 'warm-up', secret: 'warm-up-token-not-a-credential' };
/** Fixed, so the warm-up's reading does not depend on the build machine's clock. */
const WARM_UP_NOW_MS = Date.UTC(2026, 0, 1);

/** A line the entry prints at build time if the warm-up fails; the build refuses the wasm. */
export const WARM_UP_FAILED = 'TSK_WARM_UP_FAILED';
/**
 * The line it prints when the warm-up finished. The build requires it: a warm-up still waiting
 * when Wizer snapshots (on something that only a request can provide) would otherwise be lost
 * without a word.
 */
export const WARM_UP_DONE = 'TSK_WARM_UP_DONE';

/** What one warm-up ran, for its test. */
export interface WarmUpReport {
  /** The paths routed, in order. */
  routed: string[];
  /** The documents answered as stored (kind and status). */
  documents: string[];
  /** Whether the sign route's signature verified through the verify route. */
  verified: boolean;
  /** Audit records built (never written anywhere). */
  audited: number;
}

/** Runs the hot paths once with public material and in-memory services (see the file's head). */
export async function warmUp(settings: Settings): Promise<WarmUpReport> {
  const seed = fromHex(WARM_UP_SEED_HEX);
  const publicKey = await publicKeyOf(seed);
  if (toHex(publicKey) !== WARM_UP_PUBLIC_HEX) throw new Error('warm-up: RFC 8032 TEST 1 key');
  // Ed25519 directly: the true and the false outcome of verify.
  const message = new TextEncoder().encode('warm-up');
  const signature = await sign(seed, message);
  const tampered = Uint8Array.from(signature);
  tampered[0] = (tampered[0] as number) ^ 1;
  if (
    !(await verify(publicKey, signature, message)) ||
    (await verify(publicKey, tampered, message))
  )
    throw new Error('warm-up: Ed25519 self-check');

  const services = await warmUpServices(settings, seed, publicKey);
  const report: WarmUpReport = { routed: [], documents: [], verified: false, audited: 0 };
  const token = `${WARM_UP_TOKEN.id}.${WARM_UP_TOKEN.secret}`;

  for (const kind of ['jwks', 'discovery'] as const) {
    const path = kind === 'jwks' ? '/.well-known/jwks.json' : '/.well-known/trusted-server.json';
    route(services, report, 'GET', path, {});
    const first = await storedDocumentAnswer(services, kind, 'GET', null);
    if (!first) throw new Error(`warm-up: no stored ${kind} document`);
    const again = await storedDocumentAnswer(services, kind, 'GET', first.headers['etag'] ?? '');
    report.documents.push(`${kind} ${first.status}`, `${kind} ${again?.status ?? 'none'}`);
  }

  const signCtx = route(services, report, 'POST', '/admin/keys/sign', {
    authorization: `Bearer ${token}`,
    body: JSON.stringify({ id: 'warm-up' }),
  });
  await admitAdmin(signCtx, 'operator');
  const signed = await signTestAnswer(signCtx);
  auditRecord(signCtx, 200, undefined);
  report.audited++;

  const verifyCtx = route(services, report, 'POST', '/verify-signature', {
    body: JSON.stringify(signed),
  });
  const answer = await verifyOutcome(verifyCtx, { outcome: 'error' });
  report.verified = answer.verified;
  if (!answer.verified) throw new Error('warm-up: the signed payload did not verify');
  // A wrong credential's path through the gate (refused; counted only by the fake limiter).
  try {
    await authenticate({ id: WARM_UP_TOKEN.id, secret: `${WARM_UP_TOKEN.secret}-wrong` }, null);
  } catch (err) {
    if (!(err instanceof TskError)) throw err;
  }
  return report;
}

/** What the app's dispatch does before a handler runs, and the context it hands the handler. */
function route(
  services: Services,
  report: WarmUpReport,
  method: string,
  path: string,
  options: { authorization?: string; body?: string },
): RequestContext {
  const url = `https://${services.settings.publisher.domain}${path}`;
  const headers = new Headers();
  if (options.authorization) headers.set('authorization', options.authorization);
  if (options.body !== undefined) headers.set('content-type', 'application/json');
  const bytes = options.body === undefined ? undefined : new TextEncoder().encode(options.body);
  const body =
    bytes === undefined
      ? null
      : new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(bytes);
            controller.close();
          },
        });
  // The parts of a Request the routes read; a real one cannot be made at build time.
  const request = { method, url, headers, body } as unknown as Request;
  const client = { ip: '192.0.2.1' };
  const rawPath = requestPath(request, client);
  if (nonCanonical(rawPath) !== undefined) throw new Error(`warm-up: ${path} is not canonical`);
  const match = matchRoute(ROUTES, pathSegments(rawPath));
  if (!match || !match.route.methods[method]) throw new Error(`warm-up: no route for ${path}`);
  isAdminPath(rawPath);
  report.routed.push(`${method} ${match.route.pattern}`);
  return {
    request,
    method,
    url: new URL(url),
    path: rawPath,
    services,
    requestId: requestIdFor(services),
    params: match.params,
    failure: {},
    client,
    audit: { route: match.route.pattern },
  };
}

/**
 * In-memory services holding the test vector as the only, ACTIVE key, stored as a change through
 * this service stores it (keyring, Trusted Server's items, the rendered documents).
 */
async function warmUpServices(
  settings: Settings,
  seed: Uint8Array,
  publicKey: Uint8Array,
): Promise<Services> {
  const { keyring } = loadKeyring(
    new Map([
      [WARM_UP_KID, JSON.stringify(publicJwk(WARM_UP_KID, publicKey))],
      ['current-kid', WARM_UP_KID],
      ['active-kids', WARM_UP_KID],
    ]),
    { deployment: 'default', nowMs: WARM_UP_NOW_MS, keyLifetimeDays: 90 },
  );
  const config = derivedItems({ ...keyring, version: 1 });
  const secrets = new Map<string, Map<string, string>>([
    [STORE_NAMES.signingKeys, new Map([[WARM_UP_KID, encodeSeed(seed)]])],
    [
      STORE_NAMES.adminTokens,
      new Map([[WARM_UP_TOKEN.id, await tokenRecord(WARM_UP_TOKEN.secret, 'operator')]]),
    ],
  ]);
  let counter = 0;
  const rateLimiter: RateLimiter = {
    increment: async () => 1,
    penaltySeconds: async () => 0,
    penalize: async () => undefined,
  };
  return {
    settings,
    clock: { now: () => WARM_UP_NOW_MS },
    // Request ids only; nothing here is secret.
    random: { bytes: (n) => Uint8Array.from({ length: n }, () => counter++ & 0xff) },
    configStore: (name) => ({
      get: async (key) => (name === STORE_NAMES.jwks ? (config.get(key) ?? null) : null),
    }),
    secretStore: (name) => ({ get: async (key) => secrets.get(name)?.get(key) ?? null }),
    deployments: {
      open: () => Promise.reject(new Error('warm-up: the management side is not warmed up')),
    },
    logger: { log: () => undefined },
    rateLimiter,
    audit: { write: async (_record: AuditRecord) => undefined },
  };
}

function fromHex(hex: string): Uint8Array {
  return Uint8Array.from({ length: hex.length / 2 }, (_, i) =>
    parseInt(hex.slice(2 * i, 2 * i + 2), 16),
  );
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
