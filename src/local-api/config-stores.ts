// Config stores: `/resources/stores/config[/{id}]`. Shapes and statuses follow go-fastly's
// recorded responses (fastly/fixtures/config_store): form-encoded requests, 200 with the store
// object, a plain JSON array for the list (newest first), `{"status":"ok"}` on delete.
import { formBody, formField } from './body.js';
import { conflict, notFound } from './errors.js';
import type { ConfigStore, StateData } from './model.js';
import { isoSeconds, storeId } from './model.js';
import { servicesLinking } from './resource-links.js';
import type { Reply, RequestContext, Route } from './router.js';
import { json } from './router.js';
import { serviceListView } from './services.js';
import { checkConfigStoreName } from './validate.js';

/** The store as Fastly serializes it. */
export function configStoreView(store: ConfigStore): Record<string, unknown> {
  return {
    name: store.name,
    id: store.id,
    created_at: store.createdAt,
    updated_at: store.updatedAt,
    deleted_at: null,
  };
}

/** The store with this id, or 404 `Record not found`. */
export function configStoreOr404(state: Readonly<StateData>, id: string): ConfigStore {
  const store = state.configStores.get(id);
  if (store === undefined) throw notFound();
  return store;
}

/**
 * Refuses a second store of the same name. Fastly's answer here is unverified; a 409 mirrors what
 * it answers for a duplicate KV store name, and lookups by name must stay unambiguous.
 */
function checkNameFree(state: StateData, name: string, exceptId?: string): void {
  for (const other of state.configStores.values()) {
    if (other.name === name && other.id !== exceptId) {
      throw conflict(`store with name '${name}' already exists`);
    }
  }
}

function list(ctx: RequestContext): Reply {
  const name = ctx.query.get('name');
  const stores = [...ctx.db.state.configStores.values()].reverse();
  const matching = name === null ? stores : stores.filter((s) => s.name === name);
  return json(200, matching.map(configStoreView));
}

function create(ctx: RequestContext): Reply {
  const name = formField(formBody(ctx.body), 'name');
  checkConfigStoreName(name);
  const store = ctx.db.mutate((state) => {
    checkNameFree(state, name);
    const now = isoSeconds();
    const created: ConfigStore = {
      id: storeId(),
      name,
      createdAt: now,
      updatedAt: now,
      items: new Map(),
    };
    state.configStores.set(created.id, created);
    return created;
  });
  return json(200, configStoreView(store));
}

function describe(ctx: RequestContext): Reply {
  return json(200, configStoreView(configStoreOr404(ctx.db.state, ctx.params['id'] ?? '')));
}

function update(ctx: RequestContext): Reply {
  const id = ctx.params['id'] ?? '';
  configStoreOr404(ctx.db.state, id);
  const name = formField(formBody(ctx.body), 'name');
  checkConfigStoreName(name);
  const store = ctx.db.mutate((state) => {
    const target = configStoreOr404(state, id);
    checkNameFree(state, name, id);
    target.name = name;
    target.updatedAt = isoSeconds();
    return target;
  });
  return json(200, configStoreView(store));
}

function remove(ctx: RequestContext): Reply {
  const id = ctx.params['id'] ?? '';
  configStoreOr404(ctx.db.state, id);
  ctx.db.mutate((state) => state.configStores.delete(id));
  return json(200, { status: 'ok' });
}

function info(ctx: RequestContext): Reply {
  const store = configStoreOr404(ctx.db.state, ctx.params['id'] ?? '');
  return json(200, { item_count: store.items.size });
}

/** The services that link this store in any version, as the service list shows them. */
function services(ctx: RequestContext): Reply {
  const id = ctx.params['id'] ?? '';
  configStoreOr404(ctx.db.state, id);
  return json(200, servicesLinking(ctx.db.state, id).map(serviceListView));
}

/** Routes for config stores themselves (items are in config-items.ts). */
export const configStoreRoutes: Route[] = [
  { pattern: '/resources/stores/config', methods: { GET: list, POST: create } },
  {
    pattern: '/resources/stores/config/:id',
    methods: { GET: describe, PUT: update, DELETE: remove },
  },
  { pattern: '/resources/stores/config/:id/info', methods: { GET: info } },
  { pattern: '/resources/stores/config/:id/services', methods: { GET: services } },
];
