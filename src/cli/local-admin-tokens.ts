// The local edge's `admin_tokens` secret store, reached through the local Fastly API with the same
// requests one would make against api.fastly.com: find the store by name, then create (POST),
// replace (PUT), list (GET) or delete (DELETE) a secret. Secret values cannot be read back through
// the API, so a listing shows ids and creation times, never roles or hashes.
//
// Where the local API is comes from the state directory alone: `npm start` records its address in
// `<state dir>/.running.json`, so no port needs exporting in the shell that runs tsctl.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toBase64, utf8 } from '../core/crypto/base64.js';
import { isRecord, type HttpClient } from './client.js';
import type { CommandContext } from './command.js';
import { CliError, EXIT, UsageError } from './errors.js';

/** The edge name of the store admin tokens live in. */
export const ADMIN_TOKENS_STORE = 'admin_tokens';

/** The file a running local edge describes itself in (written by the local API). */
const RUNNING_FILE = '.running.json';

/** Where the local Fastly API is and where its token file lives. */
export interface LocalApiTarget {
  apiUrl: string;
  stateDir: string;
}

/** Flags of every command that can act on the local edge's tokens. */
export const LOCAL_OPTIONS = {
  local: { type: 'boolean', description: "act on the local edge's admin_tokens store (npm start)" },
  'state-dir': {
    type: 'string',
    value: 'DIR',
    description: 'with --local: the local state (default TSK_STATE_DIR or .fastly-local)',
  },
  'api-endpoint': {
    type: 'string',
    value: 'URL',
    description:
      'with --local: the local Fastly API (default: where the edge on --state-dir runs, else 127.0.0.1:TSK_API_PORT or 7677)',
  },
} as const;

/**
 * With --local: the local API and state directory. The API is `--api-endpoint`, else the one the
 * running edge recorded in the state directory, else `TSK_API_PORT` (7677). Flags that need
 * --local refuse without it.
 */
export async function localTarget(ctx: CommandContext): Promise<LocalApiTarget | undefined> {
  const { flags, io } = ctx;
  if (!flags.boolean('local')) {
    for (const name of ['state-dir', 'api-endpoint']) {
      if (flags.string(name) !== undefined) throw new UsageError(`--${name} needs --local`);
    }
    return undefined;
  }
  const stateDir = flags.string('state-dir') ?? (io.env['TSK_STATE_DIR'] || '.fastly-local');
  const apiUrl =
    flags.string('api-endpoint') ??
    (await recordedApiUrl(stateDir)) ??
    `http://127.0.0.1:${io.env['TSK_API_PORT'] || '7677'}`;
  try {
    const url = new URL(apiUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new UsageError(`--api-endpoint must be an http(s) URL, not "${apiUrl}"`);
  }
  return { apiUrl, stateDir };
}

/** The API address the running local edge wrote into its state directory, if any. */
async function recordedApiUrl(stateDir: string): Promise<string | undefined> {
  try {
    const running: unknown = JSON.parse(await readFile(join(stateDir, RUNNING_FILE), 'utf8'));
    const url = isRecord(running) ? running['api_url'] : undefined;
    return typeof url === 'string' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** The local `admin_tokens` store: a client for the local API and the store's id. */
interface LocalTokenStore {
  api: HttpClient;
  storeId: string;
  path: string;
}

async function openStore(ctx: CommandContext, target: LocalApiTarget): Promise<LocalTokenStore> {
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
  return { api, storeId, path: `/resources/stores/secret/${encodeURIComponent(storeId)}/secrets` };
}

/**
 * Stores `record` under `name` in the local `admin_tokens` store; answers the store id. Without
 * `replace` an existing entry is never overwritten (POST, which Fastly refuses for a taken name):
 * a new viewer token must not silently take an operator's id.
 */
export async function installLocalAdminToken(
  ctx: CommandContext,
  target: LocalApiTarget,
  name: string,
  record: string,
  options: { replace?: boolean } = {},
): Promise<string> {
  const { api, storeId, path } = await openStore(ctx, target);
  const body = { name, secret: toBase64(utf8(record)) };
  try {
    await api.request(options.replace ? 'PUT' : 'POST', path, { body });
  } catch (err) {
    if (
      err instanceof CliError &&
      !options.replace &&
      (err.details['status'] === 409 || /duplicate/i.test(err.message))
    ) {
      throw new CliError(
        'token_exists',
        `a token with id "${name}" already exists in the local ${ADMIN_TOKENS_STORE} store; nothing was changed`,
        EXIT.refused,
        'choose another --id, or pass --replace to replace it (its holder loses access)',
      );
    }
    throw err;
  }
  return storeId;
}

/** One entry of the store: its id and when it was made (values cannot be read back). */
export interface TokenEntry {
  id: string;
  created_at: string | null;
}

/** Every token id in the local store, following the API's cursor pages. */
export async function listLocalAdminTokens(
  ctx: CommandContext,
  target: LocalApiTarget,
): Promise<{ storeId: string; tokens: TokenEntry[] }> {
  const { api, storeId, path } = await openStore(ctx, target);
  const tokens: TokenEntry[] = [];
  let cursor: string | undefined;
  // Bounded: a store holds at most a few thousand entries; a cursor that never ends is a bug.
  for (let page = 0; page < 1000; page++) {
    const query = `?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const answer = await api.request('GET', `${path}${query}`);
    const json = isRecord(answer.json) ? answer.json : {};
    for (const entry of Array.isArray(json['data']) ? json['data'] : []) {
      if (!isRecord(entry) || typeof entry['name'] !== 'string') continue;
      const created = entry['created_at'];
      tokens.push({ id: entry['name'], created_at: typeof created === 'string' ? created : null });
    }
    const meta = isRecord(json['meta']) ? json['meta'] : {};
    const next = meta['next_cursor'];
    if (typeof next !== 'string' || next === '') break;
    cursor = next;
  }
  tokens.sort((a, b) => a.id.localeCompare(b.id));
  return { storeId, tokens };
}

/** Deletes the entry `name`; `token_not_found` (exit 1) when there is none. */
export async function deleteLocalAdminToken(
  ctx: CommandContext,
  target: LocalApiTarget,
  name: string,
): Promise<string> {
  const { api, storeId, path } = await openStore(ctx, target);
  try {
    await api.request('DELETE', `${path}/${encodeURIComponent(name)}`);
  } catch (err) {
    if (err instanceof CliError && err.details['status'] === 404) {
      throw new CliError(
        'token_not_found',
        `no token with id "${name}" in the local ${ADMIN_TOKENS_STORE} store`,
        EXIT.refused,
        'list the ids with `tsctl token list --local`',
      );
    }
    throw err;
  }
  return storeId;
}

/** The local `admin_tokens` store through the local Fastly API (for `token import`). */
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
  const { api, storeId, path } = await openStore(ctx, target);
  const write = (method: 'PUT' | 'POST') => async (name: string, record: string) => {
    await api.request(method, path, { body: { name, secret: toBase64(utf8(record)) } });
  };
  return {
    storeId,
    origin: api.origin,
    async has(name) {
      try {
        await api.request('GET', `${path}/${encodeURIComponent(name)}`);
        return true;
      } catch (err) {
        // Fastly answers a missing secret with 404 `{"msg":"Record not found"}`.
        if (err instanceof CliError && err.details['status'] === 404) return false;
        throw err;
      }
    },
    put: write('PUT'),
    create: write('POST'),
  };
}
