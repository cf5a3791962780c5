// Bringing a running local Fastly API to the state both local edges need (the app on Node for
// `npm start`, the wasm on the Compute host for `npm run serve`): its stores created and seeded,
// the Fastly API token and an operator admin token installed, and the key the local API signs its
// secret-store client keys with, which the edge must trust instead of Fastly's.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { newTokenSecret, parseToken, type Credential } from '../../core/auth/admin-token.js';
import type { Settings } from '../../core/settings.js';
import { FastlyApi } from '../../fastly-api/index.js';
import type { LocalSeed } from './fastly-toml.js';
import {
  installAdminToken,
  installApiToken,
  provisionStores,
  type ProvisionedStores,
} from './provision.js';

/** The id of the operator token a local edge creates in its state folder. */
export const LOCAL_ADMIN_TOKEN_ID = 'local-admin';

/** What a provisioned local stack gives its edge. */
export interface LocalStack {
  /** A management client on the local API that trusts its signing key. */
  client: FastlyApi;
  stores: ProvisionedStores;
  /** Base64 key the local API signs its secret-store client keys with. */
  secretSigningKey: string;
  credential: Credential;
  adminTokenFile: string;
}

/** Provisions the local API at `api` for the deployments `settings` declares. */
export async function provisionLocalStack(
  api: { url: string; token: string },
  options: { stateDir: string; settings: Settings; seed: LocalSeed },
): Promise<LocalStack> {
  const connection = {
    endpoint: api.url,
    token: api.token,
    fetch: (r: Request) => fetch(r),
    timeoutMs: 10_000,
  };
  // Trust decision: the local API signs its client keys with a key it generated, not Fastly's, so
  // secrets sealed for it must be checked against that key. It is asked for once, over loopback,
  // from the server this process started (or attached to) and holds the token of; the edge and
  // this provisioning client then trust exactly that key for this run.
  const secretSigningKey = await new FastlyApi(connection).getSecretSigningKey();
  const client = new FastlyApi({ ...connection, secretSigningKey });
  const declared = Object.values(options.settings.deployments);
  const stores = await provisionStores(client, options.seed, {
    configStores: declared.map((d) => d.config_store),
    secretStores: declared.map((d) => d.secret_store),
  });
  await installApiToken(client, stores, api.token);
  const adminTokenFile = join(options.stateDir, 'admin-token');
  const credential = await ensureAdminTokenFile(adminTokenFile);
  await installAdminToken(client, stores, { ...credential, role: 'operator' });
  return { client, stores, secretSigningKey, credential, adminTokenFile };
}

/** Reads the local operator token, creating one (mode 0600) on first run. */
async function ensureAdminTokenFile(path: string): Promise<Credential> {
  let text: string | undefined;
  try {
    text = (await readFile(path, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text === undefined) {
    const secret = newTokenSecret({ bytes: (n) => new Uint8Array(randomBytes(n)) });
    text = `${LOCAL_ADMIN_TOKEN_ID}.${secret}`;
    await writeFile(path, `${text}\n`, { mode: 0o600, flag: 'wx' });
  }
  const credential = parseToken(text);
  if (!credential) {
    throw new Error(
      `${path} does not hold an <id>.<secret> admin token; delete it to get a new one`,
    );
  }
  return credential;
}
