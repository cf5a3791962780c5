// KV keys: `/resources/stores/kv/{id}/keys[/{key}]`, with compare-and-set through generations.
// As recorded in go-fastly's fixtures/kv_store: GET answers the raw value with `Generation` and
// `Metadata` headers; PUT answers 200 with an empty body; `?add=true` on an existing key and an
// `if-generation-match` that does not match answer 412 with an empty body; DELETE answers 204,
// also for a missing key with `?force=true`. The list answers `{"data":[keys],"meta":{...}}`.
import { badRequest, notFound, preconditionFailed } from './errors.js';
import type { KvEntry } from './model.js';
import { nextGeneration, parseGeneration } from './model.js';
import { pageMeta, paginate, parseLimit } from './pagination.js';
import type { Reply, RequestContext, Route } from './router.js';
import { empty, json } from './router.js';
import { kvStoreOr404 } from './kv-stores.js';
import { checkKvKey } from './validate.js';

/** Page size when `limit` is absent, and the largest page. */
const LIST_LIMIT = 1000;
/** Largest `metadata` header, in bytes (Fastly's documented metadata limit is 2,000 bytes). */
const MAX_METADATA_BYTES = 2000;

const flag = (query: URLSearchParams, name: string): boolean => query.get(name) === 'true';

/** The `if-generation-match` header: absent, or a 64-bit unsigned integer (else a 400). */
function generationMatch(ctx: RequestContext): bigint | undefined {
  const header = ctx.headers['if-generation-match'];
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header.join(',') : header;
  const generation = parseGeneration(text.trim());
  if (generation === undefined) throw badRequest('Invalid if-generation-match header');
  return generation;
}

function getKey(ctx: RequestContext): Reply {
  const store = kvStoreOr404(ctx.db.state, ctx.params['id'] ?? '');
  const entry = store.keys.get(ctx.params['key'] ?? '');
  if (entry === undefined) throw notFound();
  return {
    status: 200,
    raw: entry.value,
    headers: {
      'content-type': 'application/octet-stream',
      generation: String(entry.generation),
      metadata: entry.metadata,
      'stored-content-length': String(entry.value.length),
    },
  };
}

/**
 * Writes a value. `append=true` / `prepend=true` join it to the current value; the `metadata`
 * header replaces the old metadata (absent: cleared, as Fastly's recorded rounds show).
 * `time_to_live_sec` and `background_fetch` are accepted and ignored: nothing expires locally.
 */
function putKey(ctx: RequestContext): Reply {
  const id = ctx.params['id'] ?? '';
  const key = ctx.params['key'] ?? '';
  kvStoreOr404(ctx.db.state, id);
  checkKvKey(key);
  const [add, append, prepend] = ['add', 'append', 'prepend'].map((f) => flag(ctx.query, f));
  if (append && prepend) throw badRequest('append and prepend cannot be combined');
  const expected = generationMatch(ctx);
  const rawMetadata = ctx.headers['metadata'];
  const metadata = Array.isArray(rawMetadata) ? rawMetadata.join(',') : (rawMetadata ?? '');
  if (Buffer.byteLength(metadata, 'utf8') > MAX_METADATA_BYTES) {
    throw badRequest(`metadata must be at most ${MAX_METADATA_BYTES} bytes`);
  }
  ctx.db.mutate((state) => {
    const store = kvStoreOr404(state, id);
    const current = store.keys.get(key);
    if (add && current !== undefined) throw preconditionFailed();
    if (expected !== undefined && current?.generation !== expected) throw preconditionFailed();
    const body = new Uint8Array(ctx.body);
    const old = current?.value ?? new Uint8Array();
    const value = append ? concat(old, body) : prepend ? concat(body, old) : body;
    const entry: KvEntry = { value, metadata, generation: nextGeneration(state) };
    store.keys.set(key, entry);
  });
  return empty(200);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Deletes a key: 404 if absent (204 with `force=true`), 412 if `if-generation-match` differs. */
function deleteKey(ctx: RequestContext): Reply {
  const id = ctx.params['id'] ?? '';
  const key = ctx.params['key'] ?? '';
  const expected = generationMatch(ctx);
  const current = kvStoreOr404(ctx.db.state, id).keys.get(key);
  if (current === undefined) {
    if (flag(ctx.query, 'force')) return empty(204);
    throw notFound();
  }
  if (expected !== undefined && current.generation !== expected) throw preconditionFailed();
  ctx.db.mutate((state) => kvStoreOr404(state, id).keys.delete(key));
  return empty(204);
}

/**
 * Lists keys in UTF-8 order. `consistency` is `strong` (default) or `eventual`; both are strong
 * locally. `meta` carries `prefix` and `consistency: "eventual"` back as Fastly's does.
 */
function listKeys(ctx: RequestContext): Reply {
  const store = kvStoreOr404(ctx.db.state, ctx.params['id'] ?? '');
  const limit = parseLimit(ctx.query, LIST_LIMIT, LIST_LIMIT);
  const consistency = ctx.query.get('consistency') ?? 'strong';
  if (consistency !== 'strong' && consistency !== 'eventual') {
    throw badRequest('Invalid consistency: use strong or eventual');
  }
  const prefix = ctx.query.get('prefix') ?? '';
  const keys = [...store.keys.keys()].filter((k) => k.startsWith(prefix));
  const { page, nextCursor } = paginate(keys, (k) => k, ctx.query, limit);
  const meta: Record<string, unknown> = pageMeta(limit, nextCursor);
  if (prefix !== '') meta['prefix'] = prefix;
  if (consistency === 'eventual') meta['consistency'] = 'eventual';
  return json(200, { data: page, meta });
}

/** Routes for KV keys. */
export const kvKeyRoutes: Route[] = [
  { pattern: '/resources/stores/kv/:id/keys', methods: { GET: listKeys } },
  {
    pattern: '/resources/stores/kv/:id/keys/*key',
    methods: { GET: getKey, PUT: putKey, DELETE: deleteKey },
  },
];
