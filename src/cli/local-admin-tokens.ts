// Installs an admin token's record in the local edge's `admin_tokens` secret store through the
// local Fastly API, with the same two requests one would make against api.fastly.com: find the
// store by name, then PUT the secret (create or replace), or, where replacing must be asked for,
// look the name up first and POST it (create only).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toBase64, utf8 } from '../core/crypto/base64.js';
import { isRecord } from './client.js';
import type { CommandContext } from './command.js';
import { CliError, EXIT, UsageError } from './errors.js';

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
  const local = await openLocalAdminTokens(ctx, target);
  await local.put(name, record);
  return local.storeId;
}

/** The local `admin_tokens` store through the local Fastly API. */
export interface LocalAdminTokens {
  storeId: string;
  /** The API's origin, for messages. */
  origin: string;
  /** True when an entry `name` exists. */
  has(name: string): Promise<boolean>;
  /** Creates or replaces `name`. */
  put(name: string, record: string): Promise<void>;
  /** Creates `name`; the API refuses it if the name is taken. */
  create(name: string, record: string): Promise<void>;
}

/** Finds the local `admin_tokens` store (the API token comes from the state directory). */
export async function openLocalAdminTokens(
  ctx: CommandContext,
  target: LocalApiTarget,
): Promise<LocalAdminTokens> {
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
  const secrets = `/resources/stores/secret/${encodeURIComponent(storeId)}/secrets`;
  const write = (method: 'PUT' | 'POST') => async (name: string, record: string) => {
    await api.request(method, secrets, { body: { name, secret: toBase64(utf8(record)) } });
  };
  return {
    storeId,
    origin: api.origin,
    async has(name) {
      try {
        await api.request('GET', `${secrets}/${encodeURIComponent(name)}`);
        return true;
      } catch (err) {
        // Fastly answers a missing secret with 404 `{"msg":"Record not found"}`.
        if (err instanceof CliError && err.code === 'http_404') return false;
        throw err;
      }
    },
    put: write('PUT'),
    create: write('POST'),
  };
}

/** With --local: the local API and state directory; flags that need --local refuse without it. */
export function localTarget(ctx: CommandContext): { apiUrl: string; stateDir: string } | undefined {
  const { flags, io } = ctx;
  if (!flags.boolean('local')) {
    for (const name of ['state-dir', 'api-endpoint']) {
      if (flags.string(name) !== undefined) throw new UsageError(`--${name} needs --local`);
    }
    return undefined;
  }
  const stateDir = flags.string('state-dir') ?? (io.env['TSK_STATE_DIR'] || '.fastly-local');
  const port = io.env['TSK_API_PORT'];
  const apiUrl = flags.string('api-endpoint') ?? `http://127.0.0.1:${port || '7677'}`;
  try {
    const url = new URL(apiUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new UsageError(`--api-endpoint must be an http(s) URL, not "${apiUrl}"`);
  }
  return { apiUrl, stateDir };
}
