// Secrets: `/resources/stores/secret/{id}/secrets[/{name}]`. The verb picks the behaviour for
// the same JSON body `{"name","secret":<base64>,"client_key"?}`: POST creates (400
// `duplicate: name` if taken, as Fastly answers per fastly/cli#1507), PUT creates or recreates,
// PATCH recreates (404 if absent). Answers `{name,digest,created_at}` with status 200, plus
// `"recreated": true` when a secret was replaced; DELETE answers 204 (go-fastly's fixtures).
import { createHmac, randomBytes } from 'node:crypto';
import { jsonBody, jsonString } from './body.js';
import { ApiError, badRequest, notFound } from './errors.js';
import type { Secret, SecretStore } from './model.js';
import { isoSeconds } from './model.js';
import { pageMeta, paginate, parseLimit } from './pagination.js';
import type { Reply, RequestContext, Route } from './router.js';
import { empty, json } from './router.js';
import { secretStoreOr404 } from './secret-stores.js';
import type { ClientKeys } from './client-keys.js';
import { MAX_SECRET_BYTES, checkSecretName, decodeBase64Strict } from './validate.js';

/** Page size when `limit` is absent (go-fastly's recorded list answers `"limit": 10`). */
const DEFAULT_LIMIT = 10;
/** Largest page, as Fastly documents. */
const MAX_LIMIT = 200;

type WriteMode = 'create' | 'upsert' | 'recreate';

/** The secret's metadata as Fastly serializes it; the value is never part of it. */
function view(name: string, secret: Secret, recreated = false): Record<string, unknown> {
  const body = { name, digest: secret.digest, created_at: secret.createdAt };
  return recreated ? { ...body, recreated: true } : body;
}

/**
 * An opaque digest. Fastly's change on every write, even of the same value (a secret gets a new
 * identity when recreated), and are 32 bytes in standard base64. This one is an HMAC keyed per
 * store over a fresh nonce and the value, so it reveals nothing about the value either.
 */
function digest(store: SecretStore, plaintext: Uint8Array): string {
  const mac = createHmac('sha256', store.digestKey);
  mac.update(randomBytes(16));
  mac.update(plaintext);
  return mac.digest('base64');
}

/** Decodes and checks the body; with `client_key`, unseals the value first. */
function readSecretBody(
  body: Buffer,
  clientKeys: ClientKeys,
): { name: string; plaintext: Uint8Array } {
  const doc = jsonBody(body);
  const name = jsonString(doc, 'name');
  checkSecretName(name, 'name');
  let plaintext = decodeBase64Strict(jsonString(doc, 'secret'), 'secret');
  const clientKey = doc['client_key'];
  if (clientKey !== undefined && clientKey !== null && clientKey !== '') {
    if (typeof clientKey !== 'string') throw badRequest('body: "client_key" must be a string');
    plaintext = clientKeys.open(clientKey, plaintext);
  }
  if (plaintext.length === 0) throw badRequest('Invalid secret: must not be empty');
  if (plaintext.length > MAX_SECRET_BYTES) {
    throw badRequest(
      `Invalid secret: at most ${MAX_SECRET_BYTES} bytes`,
      `got ${plaintext.length}`,
    );
  }
  return { name, plaintext };
}

function write(ctx: RequestContext, mode: WriteMode, clientKeys: ClientKeys): Reply {
  const id = ctx.params['id'] ?? '';
  secretStoreOr404(ctx.db.state, id);
  const { name, plaintext } = readSecretBody(ctx.body, clientKeys);
  const answer = ctx.db.mutate((state) => {
    const store = secretStoreOr404(state, id);
    const exists = store.secrets.has(name);
    if (mode === 'create' && exists) throw new ApiError(400, 'Bad Request', 'duplicate: name');
    if (mode === 'recreate' && !exists) throw notFound();
    const secret: Secret = { plaintext, digest: digest(store, plaintext), createdAt: isoSeconds() };
    store.secrets.set(name, secret);
    return view(name, secret, exists);
  });
  return json(200, answer);
}

function list(ctx: RequestContext): Reply {
  const store = secretStoreOr404(ctx.db.state, ctx.params['id'] ?? '');
  const limit = parseLimit(ctx.query, DEFAULT_LIMIT, MAX_LIMIT);
  const { page, nextCursor } = paginate(store.secrets, ([name]) => name, ctx.query, limit);
  const data = page.map(([name, secret]) => view(name, secret));
  return json(200, { data, meta: pageMeta(limit, nextCursor) });
}

function describe(ctx: RequestContext): Reply {
  const store = secretStoreOr404(ctx.db.state, ctx.params['id'] ?? '');
  const name = ctx.params['name'] ?? '';
  const secret = store.secrets.get(name);
  if (secret === undefined) throw notFound();
  return json(200, view(name, secret));
}

function remove(ctx: RequestContext): Reply {
  const id = ctx.params['id'] ?? '';
  const name = ctx.params['name'] ?? '';
  if (!secretStoreOr404(ctx.db.state, id).secrets.has(name)) throw notFound();
  ctx.db.mutate((state) => secretStoreOr404(state, id).secrets.delete(name));
  return empty(204);
}

/** Routes for secrets; `clientKeys` unseals values sent with client-side encryption. */
export function secretRoutes(clientKeys: ClientKeys): Route[] {
  return [
    {
      pattern: '/resources/stores/secret/:id/secrets',
      methods: {
        GET: list,
        POST: (ctx) => write(ctx, 'create', clientKeys),
        PUT: (ctx) => write(ctx, 'upsert', clientKeys),
        PATCH: (ctx) => write(ctx, 'recreate', clientKeys),
      },
    },
    {
      pattern: '/resources/stores/secret/:id/secrets/:name',
      methods: { GET: describe, DELETE: remove },
    },
  ];
}
