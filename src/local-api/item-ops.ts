// Item operations shared by the single-item endpoints and the bulk PATCH, applied to a draft of
// the state (see database.ts), and the item as Fastly serializes it (go-fastly's fixtures).
import { ApiError, badRequest, notFound } from './errors.js';
import type { ConfigStore } from './model.js';
import { MAX_CONFIG_ITEMS, checkConfigKey, checkConfigValue } from './validate.js';

/** The operations of the bulk endpoint; the single-item endpoints map onto them too. */
export type ItemOp = 'create' | 'update' | 'upsert' | 'delete';

/** The item as Fastly serializes it. */
export function configItemView(store: ConfigStore, key: string): Record<string, unknown> {
  const item = store.items.get(key);
  if (item === undefined) throw notFound();
  return {
    item_key: key,
    item_value: item.value,
    created_at: item.createdAt,
    updated_at: item.updatedAt,
    deleted_at: null,
    store_id: store.id,
  };
}

/**
 * Applies one operation to `store` (a draft), validating it against the store as it is now.
 * Fastly's answers to a duplicate create are unverified; 409 is assumed.
 */
export function applyItemOp(
  store: ConfigStore,
  op: ItemOp,
  key: string,
  value: string | undefined,
  now: string,
): void {
  checkConfigKey(key);
  const existing = store.items.get(key);
  if (op === 'delete') {
    if (existing === undefined) throw notFound(`no item with key '${key}'`);
    store.items.delete(key);
    return;
  }
  if (value === undefined) throw badRequest(`Missing required field: item_value`);
  checkConfigValue(value);
  if (op === 'create' && existing !== undefined) {
    throw new ApiError(409, 'Conflict', `item with key '${key}' already exists`);
  }
  if (op === 'update' && existing === undefined) throw notFound(`no item with key '${key}'`);
  store.items.set(key, { value, createdAt: existing?.createdAt ?? now, updatedAt: now });
}

/** Refuses a store grown past the item limit (checked after all of a request's operations). */
export function checkItemCount(store: ConfigStore): void {
  if (store.items.size > MAX_CONFIG_ITEMS) {
    throw badRequest(
      `A config store holds at most ${MAX_CONFIG_ITEMS} items`,
      `this request would leave ${store.items.size}`,
    );
  }
}
