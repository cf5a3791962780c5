// Secret stores: `/resources/stores/secret[/{id}]`. JSON requests; create answers 201
// `{id,name,created_at}`, delete 204 with no body, the list `{"data":[...],"meta":{"limit"}}`
// with a default page of 10 sorted by id (all as in go-fastly's fixtures/secret_store).
import { randomBytes } from 'node:crypto';
import { jsonBody, jsonString } from './body.js';
import { conflict, notFound } from './errors.js';
import type { SecretStore, StateData } from './model.js';
import { isoSeconds, storeId } from './model.js';
import { pageMeta, paginate, parseLimit } from './pagination.js';
import type { Reply, RequestContext, Route } from './router.js';
import { empty, json } from './router.js';
import { checkSecretName } from './validate.js';

/** Page size when `limit` is absent (go-fastly's recorded lists answer `"limit": 10`). */
const DEFAULT_LIMIT = 10;
/** Largest page (Fastly documents 200 for secrets; assumed the same for stores). */
const MAX_LIMIT = 200;

/** The store as Fastly serializes it. */
function view(store: SecretStore): Record<string, unknown> {
  return { id: store.id, name: store.name, created_at: store.createdAt };
}

/** The store with this id, or 404 `Record not found`. */
export function secretStoreOr404(state: Readonly<StateData>, id: string): SecretStore {
  const store = state.secretStores.get(id);
  if (store === undefined) throw notFound();
  return store;
}

function create(ctx: RequestContext): Reply {
  const name = jsonString(jsonBody(ctx.body), 'name');
  checkSecretName(name, 'store name');
  const store = ctx.db.mutate((state) => {
    // Fastly's answer to a duplicate name is unverified; refusing keeps lookups by name unambiguous.
    for (const other of state.secretStores.values()) {
      if (other.name === name) throw conflict(`store with name '${name}' already exists`);
    }
    const created: SecretStore = {
      id: storeId(),
      name,
      createdAt: isoSeconds(),
      digestKey: new Uint8Array(randomBytes(32)),
      secrets: new Map(),
    };
    state.secretStores.set(created.id, created);
    return created;
  });
  return json(201, view(store));
}

function list(ctx: RequestContext): Reply {
  const limit = parseLimit(ctx.query, DEFAULT_LIMIT, MAX_LIMIT);
  const name = ctx.query.get('name');
  const stores = [...ctx.db.state.secretStores.values()].filter(
    (s) => name === null || name === '' || s.name === name,
  );
  const { page, nextCursor } = paginate(stores, (s) => s.id, ctx.query, limit);
  return json(200, { data: page.map(view), meta: pageMeta(limit, nextCursor) });
}

function describe(ctx: RequestContext): Reply {
  return json(200, view(secretStoreOr404(ctx.db.state, ctx.params['id'] ?? '')));
}

/** Deletes the store with its secrets (Fastly does so too: its fixtures delete non-empty stores). */
function remove(ctx: RequestContext): Reply {
  const id = ctx.params['id'] ?? '';
  secretStoreOr404(ctx.db.state, id);
  ctx.db.mutate((state) => state.secretStores.delete(id));
  return empty(204);
}

/** Routes for secret stores themselves (secrets are in secrets.ts). */
export const secretStoreRoutes: Route[] = [
  { pattern: '/resources/stores/secret', methods: { GET: list, POST: create } },
  { pattern: '/resources/stores/secret/:id', methods: { GET: describe, DELETE: remove } },
];
