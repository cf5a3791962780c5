// Installs an admin token's record in the local edge's `admin_tokens` secret store through the
// local Fastly API, with the same two requests one would make against api.fastly.com: find the
// store by name, then PUT the secret (create or replace).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toBase64, utf8 } from '../core/crypto/base64.js';
import { isRecord } from './client.js';
import type { CommandContext } from './command.js';
import { CliError, EXIT } from './errors.js';

/** The edge name of the store admin tokens live in. */
export const ADMIN_TOKENS_STORE = 'admin_tokens';

/** Where the local Fastly API is and where its token file lives. */
export interface LocalApiTarget {
  apiUrl: string;
  stateDir: string;
}

/** Stores `record` under `name` in the local `admin_tokens` store; answers the store id. */
export async function installLocalAdminToken(
  ctx: CommandContext,
  target: LocalApiTarget,
  name: string,
  record: string,
): Promise<string> {
  const tokenFile = join(target.stateDir, 'fastly-api-token');
  let apiToken: string;
  try {
    apiToken = (await readFile(tokenFile, 'utf8')).trim();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new CliError(
      'local_state_missing',
      `cannot read the local Fastly API token ${tokenFile} (${code}); run \`npm start\` first or pass --state-dir`,
      EXIT.usage,
    );
  }
  ctx.print.redact(apiToken);
  const api = ctx.client(target.apiUrl, { 'fastly-key': apiToken });
  const stores = await api.request(
    'GET',
    `/resources/stores/secret?name=${encodeURIComponent(ADMIN_TOKENS_STORE)}`,
  );
  const data =
    isRecord(stores.json) && Array.isArray(stores.json['data']) ? stores.json['data'] : [];
  const store = data.find(
    (s): s is Record<string, unknown> => isRecord(s) && s['name'] === ADMIN_TOKENS_STORE,
  );
  const storeId = store?.['id'];
  if (typeof storeId !== 'string') {
    throw new CliError(
      'store_not_found',
      `the local Fastly API at ${api.origin} has no secret store named ${ADMIN_TOKENS_STORE}`,
      EXIT.refused,
    );
  }
  await api.request('PUT', `/resources/stores/secret/${encodeURIComponent(storeId)}/secrets`, {
    body: { name, secret: toBase64(utf8(record)) },
  });
  return storeId;
}
