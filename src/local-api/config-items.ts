// Config store items, one at a time: `/resources/stores/config/{id}/item[/{key}]` and the item
// list. Form-encoded `item_key` / `item_value`; unknown form fields (go-fastly also sends
// `StoreID`, `Key`, `Upsert`) are ignored. Item shape from go-fastly's fixtures.
import { formBody, formField } from './body.js';
import { isoSeconds } from './model.js';
import { configStoreOr404 } from './config-stores.js';
import type { Reply, RequestContext, Route } from './router.js';
import { json } from './router.js';
import { bulkPatchItems } from './config-bulk.js';
import type { ItemOp } from './item-ops.js';
import { applyItemOp, checkItemCount, configItemView } from './item-ops.js';

/** Runs one single-item operation as a transaction and answers with the resulting item. */
function single(ctx: RequestContext, op: ItemOp, key: string, value: string | undefined): Reply {
  const id = ctx.params['id'] ?? '';
  configStoreOr404(ctx.db.state, id);
  const view = ctx.db.mutate((state) => {
    const store = configStoreOr404(state, id);
    applyItemOp(store, op, key, value, isoSeconds());
    checkItemCount(store);
    return op === 'delete' ? { status: 'ok' } : configItemView(store, key);
  });
  return json(200, view);
}

function listItems(ctx: RequestContext): Reply {
  const store = configStoreOr404(ctx.db.state, ctx.params['id'] ?? '');
  const keys = [...store.items.keys()].sort();
  return json(
    200,
    keys.map((key) => configItemView(store, key)),
  );
}

function getItem(ctx: RequestContext): Reply {
  const store = configStoreOr404(ctx.db.state, ctx.params['id'] ?? '');
  return json(200, configItemView(store, ctx.params['key'] ?? ''));
}

function createItem(ctx: RequestContext): Reply {
  const form = formBody(ctx.body);
  return single(ctx, 'create', formField(form, 'item_key'), formField(form, 'item_value'));
}

function updateItem(ctx: RequestContext): Reply {
  const value = formField(formBody(ctx.body), 'item_value');
  return single(ctx, 'update', ctx.params['key'] ?? '', value);
}

function upsertItem(ctx: RequestContext): Reply {
  const value = formField(formBody(ctx.body), 'item_value');
  return single(ctx, 'upsert', ctx.params['key'] ?? '', value);
}

function deleteItem(ctx: RequestContext): Reply {
  return single(ctx, 'delete', ctx.params['key'] ?? '', undefined);
}

/** Routes for config store items, single and bulk. */
export const configItemRoutes: Route[] = [
  {
    pattern: '/resources/stores/config/:id/items',
    methods: { GET: listItems, PATCH: bulkPatchItems },
  },
  { pattern: '/resources/stores/config/:id/item', methods: { POST: createItem } },
  {
    pattern: '/resources/stores/config/:id/item/*key',
    methods: { GET: getItem, PATCH: updateItem, PUT: upsertItem, DELETE: deleteItem },
  },
];
