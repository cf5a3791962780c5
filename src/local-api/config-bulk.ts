// The bulk item update: `PATCH /resources/stores/config/{id}/items` with JSON
// `{"items":[{"op","item_key","item_value"}]}`, answered `{"status":"ok"}` (go-fastly's
// config_store_batch fixtures). Whether Fastly applies a batch all-or-nothing is unverified; here
// it is: every operation is checked against the store as the earlier ones left it, on a draft,
// and the first refusal discards the whole batch.
// Fastly's limit, defined once beside the client that must respect it.
import { MAX_BULK_OPS } from '../fastly-api/config-stores.js';
import { jsonBody } from './body.js';
import { ApiError, badRequest } from './errors.js';
import { isoSeconds } from './model.js';
import { configStoreOr404 } from './config-stores.js';
import type { ItemOp } from './item-ops.js';
import { applyItemOp, checkItemCount } from './item-ops.js';
import type { Reply, RequestContext } from './router.js';
import { json } from './router.js';

const OPS: ReadonlySet<string> = new Set(['create', 'update', 'upsert', 'delete']);

interface ParsedOp {
  op: ItemOp;
  key: string;
  value: string | undefined;
}

function parseOps(body: Buffer): ParsedOp[] {
  const items = jsonBody(body)['items'];
  if (!Array.isArray(items)) throw badRequest('"items" must be an array of operations');
  if (items.length > MAX_BULK_OPS) {
    throw badRequest(`At most ${MAX_BULK_OPS} operations per request`, `got ${items.length}`);
  }
  return items.map((raw: unknown, i): ParsedOp => {
    const where = `items[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw badRequest(`${where} must be an object`);
    }
    const { op, item_key: key, item_value: value } = raw as Record<string, unknown>;
    if (typeof op !== 'string' || !OPS.has(op)) {
      throw badRequest(`${where}: "op" must be one of create, update, upsert, delete`);
    }
    if (typeof key !== 'string') throw badRequest(`${where}: "item_key" must be a string`);
    if (value !== undefined && typeof value !== 'string') {
      throw badRequest(`${where}: "item_value" must be a string`);
    }
    if (op !== 'delete' && value === undefined) {
      throw badRequest(`${where}: "item_value" is required for ${op}`);
    }
    return { op: op as ItemOp, key, value: op === 'delete' ? undefined : value };
  });
}

/** Applies the batch to a draft; any refused operation refuses the batch, naming its index. */
export function bulkPatchItems(ctx: RequestContext): Reply {
  const id = ctx.params['id'] ?? '';
  configStoreOr404(ctx.db.state, id);
  const ops = parseOps(ctx.body);
  ctx.db.mutate((state) => {
    const store = configStoreOr404(state, id);
    const now = isoSeconds();
    ops.forEach(({ op, key, value }, i) => {
      try {
        applyItemOp(store, op, key, value, now);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        const what = `items[${i}] (${op} ${JSON.stringify(key)})`;
        throw new ApiError(err.status, `${what}: ${err.message}`, withNothingApplied(err.detail));
      }
    });
    checkItemCount(store);
  });
  return json(200, { status: 'ok' });
}

function withNothingApplied(detail: string | undefined): string {
  const note = 'no operation of this batch was applied';
  return detail === undefined ? note : `${detail}; ${note}`;
}
