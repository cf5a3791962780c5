// KV stores: `/resources/stores/kv[/{id}]`. JSON create answered 201
// `{id,name,created_at,updated_at}` with Fastly's space-separated timestamps, the list as
// `{"data":[...],"meta":{"limit":1000,"total":N}}`, delete 204 (go-fastly's fixtures/kv_store).
// A duplicate name is 409 `store with name '...' already exists` (fastly/cli#770).
import { jsonBody, jsonString } from './body.js';
import { conflict, notFound } from './errors.js';
import type { KvStore, StateData } from './model.js';
import { kvStoreId, kvTimestamp } from './model.js';
import { pageMeta, paginate, parseLimit } from './pagination.js';
import type { Reply, RequestContext, Route } from './router.js';
import { empty, json } from './router.js';
import { checkKvStoreName } from './validate.js';

/** Page size when `limit` is absent, and the largest page (Fastly answers `"limit": 1000`). */
const LIMIT = 1000;

/** The store as Fastly serializes it. */
function view(store: KvStore): Record<string, unknown> {
  return {
    id: store.id,
    name: store.name,
    created_at: store.createdAt,
    updated_at: store.updatedAt,
  };
}

/** The store with this id, or 404 `Record not found`. */
export function kvStoreOr404(state: Readonly<StateData>, id: string): KvStore {
  const store = state.kvStores.get(id);
  if (store === undefined) throw notFound();
  return store;
}

/** Creates a store; `?location=` (US, EU, ASIA, AUS) is accepted and has no meaning locally. */
function create(ctx: RequestContext): Reply {
  const name = jsonString(jsonBody(ctx.body), 'name');
  checkKvStoreName(name);
  const store = ctx.db.mutate((state) => {
    for (const other of state.kvStores.values()) {
      if (other.name === name) throw conflict(`store with name '${name}' already exists`);
    }
    const now = kvTimestamp();
    const created: KvStore = {
      id: kvStoreId(),
      name,
      createdAt: now,
      updatedAt: now,
      keys: new Map(),
    };
    state.kvStores.set(created.id, created);
    return created;
  });
  return json(201, view(store));
}

function list(ctx: RequestContext): Reply {
  const limit = parseLimit(ctx.query, LIMIT, LIMIT);
  const name = ctx.query.get('name');
  const stores = [...ctx.db.state.kvStores.values()].filter(
    (s) => name === null || name === '' || s.name === name,
  );
  const { page, nextCursor } = paginate(stores, (s) => s.id, ctx.query, limit);
  const meta = { ...pageMeta(limit, nextCursor), total: stores.length };
  return json(200, { data: page.map(view), meta });
}

function describe(ctx: RequestContext): Reply {
  return json(200, view(kvStoreOr404(ctx.db.state, ctx.params['id'] ?? '')));
}

/**
 * Deletes an empty store: Fastly refuses to delete a store that still has keys (fastly/cli#766,
 * and its recorded clean-ups delete every key first). The status it uses is unverified; 409 here.
 */
function remove(ctx: RequestContext): Reply {
  const id = ctx.params['id'] ?? '';
  const store = kvStoreOr404(ctx.db.state, id);
  if (store.keys.size > 0) {
    throw conflict(`store '${id}' is not empty; delete its ${store.keys.size} keys first`);
  }
  ctx.db.mutate((state) => state.kvStores.delete(id));
  return empty(204);
}

/** Routes for KV stores themselves (keys are in kv-keys.ts). */
export const kvStoreRoutes: Route[] = [
  { pattern: '/resources/stores/kv', methods: { GET: list, POST: create } },
  { pattern: '/resources/stores/kv/:id', methods: { GET: describe, DELETE: remove } },
];
