// Config stores and their items through the management API. Single items travel form-encoded
// (`item_value`), the bulk update as JSON; list answers are plain arrays without pagination.
import { TskError } from '../core/errors.js';
import type { ConfigItemOp } from '../core/ports.js';
import { asArray, asRecord, requestDecoded, requestOk, stringField } from './decode.js';
import type { Decoder } from './decode.js';
import { apiPath } from './http.js';
import type { Transport } from './http.js';

/** Most operations Fastly accepts in one bulk PATCH. */
export const MAX_BULK_OPS = 1000;

/** A store (config, secret or KV) as the management API names it. */
export interface StoreRef {
  id: string;
  name: string;
}

/** One config-store item. */
export interface ConfigItem {
  key: string;
  value: string;
}

/** Decodes a store object (`{id,name,...}`); shared by the three store kinds. */
export const decodeStore: Decoder<StoreRef> = (value) => {
  const store = asRecord(value, 'store');
  return { id: stringField(store, 'id'), name: stringField(store, 'name') };
};

const decodeItem: Decoder<ConfigItem> = (value) => {
  const item = asRecord(value, 'item');
  return { key: stringField(item, 'item_key'), value: stringField(item, 'item_value') };
};

/** `POST /resources/stores/config` with form `name`. */
export function createConfigStore(t: Transport, name: string): Promise<StoreRef> {
  const req = {
    method: 'POST',
    path: '/resources/stores/config',
    body: { form: { name } },
  } as const;
  return requestOk(t, req, decodeStore);
}

/** `GET /resources/stores/config[?name=]`: every config store, or the one with that name. */
export function listConfigStores(t: Transport, name?: string): Promise<StoreRef[]> {
  const req = { method: 'GET', path: '/resources/stores/config', query: { name } } as const;
  return requestOk(t, req, (v) => asArray(v, 'answer').map(decodeStore));
}

/** `GET .../{id}/items`: every item of the store. */
export function listConfigItems(t: Transport, storeId: string): Promise<ConfigItem[]> {
  const req = { method: 'GET', path: apiPath`/resources/stores/config/${storeId}/items` } as const;
  return requestOk(t, req, (v) => asArray(v, 'answer').map(decodeItem));
}

/** `GET .../{id}/item/{key}`: the value, or null when the item does not exist. */
export async function getConfigItem(
  t: Transport,
  storeId: string,
  key: string,
): Promise<string | null> {
  const path = apiPath`/resources/stores/config/${storeId}/item/${key}`;
  const item = await requestDecoded(t, { method: 'GET', path, expect: [404] }, decodeItem);
  return item === undefined ? null : item.value;
}

/** `PUT .../{id}/item/{key}` with form `item_value`: creates or replaces the item. */
export async function upsertConfigItem(
  t: Transport,
  storeId: string,
  key: string,
  value: string,
): Promise<void> {
  const path = apiPath`/resources/stores/config/${storeId}/item/${key}`;
  await t.send({ method: 'PUT', path, body: { form: { item_value: value } } });
}

/** `DELETE .../{id}/item/{key}`: true when deleted, false when it did not exist. */
export async function deleteConfigItem(
  t: Transport,
  storeId: string,
  key: string,
): Promise<boolean> {
  const path = apiPath`/resources/stores/config/${storeId}/item/${key}`;
  const res = await t.send({ method: 'DELETE', path, expect: [404] });
  return res.status !== 404;
}

/**
 * `PATCH .../{id}/items` with JSON `{"items":[{"op","item_key","item_value"}]}`, in order.
 * More than 1,000 operations are refused rather than split: a split would break atomicity.
 */
export async function bulkUpdateConfigItems(
  t: Transport,
  storeId: string,
  ops: readonly ConfigItemOp[],
): Promise<void> {
  if (ops.length > MAX_BULK_OPS) {
    throw new TskError(
      'invalid_request',
      `a config-store bulk update takes at most ${MAX_BULK_OPS} operations, not ${ops.length}`,
      { details: { operations: ops.length, max: MAX_BULK_OPS } },
    );
  }
  // Nothing to send; Fastly's answer to an empty batch is undocumented, so do not ask.
  if (ops.length === 0) return;
  // Deletes carry an empty item_value: the shape go-fastly's recorded runs sent to api.fastly.com.
  const items = ops.map((op) => ({
    op: op.op,
    item_key: op.key,
    item_value: op.op === 'delete' ? '' : op.value,
  }));
  const path = apiPath`/resources/stores/config/${storeId}/items`;
  // Upserts and deletes leave the same items however often they are applied; a create does not
  // (a second one fails on the item the first made), so only such a batch may be retried.
  await t.send({ method: 'PATCH', path, body: { json: { items } } });
}
