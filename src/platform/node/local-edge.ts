// The local edge as one object: the local Fastly API, provisioned and seeded, and the app on Node
// in front of it. `npm start` runs it; the end-to-end tests start it on free ports.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { newTokenSecret, parseToken, type Credential } from '../../core/auth/admin-token.js';
import type { Settings } from '../../core/settings.js';
import { FastlyApi } from '../../fastly-api/index.js';
import type { Logger } from '../../http/services.js';
import { startLocalApi, type LocalApi } from '../../local-api/index.js';
import { fileAuditSink } from './audit-file.js';
import { startEdgeServer } from './edge-server.js';
import { readLocalSeed } from './fastly-toml.js';
import {
  installAdminToken,
  installApiToken,
  provisionStores,
  type ProvisionedStores,
} from './provision.js';
import { jsonLogger, localServices } from './services.js';
import { loadSettingsFile } from './settings-file.js';

/** Where and how to run. */
export interface LocalEdgeOptions {
  stateDir: string;
  host?: string;
  edgePort?: number;
  apiPort?: number;
  settingsPath?: string;
  fastlyTomlPath?: string;
  logger?: Logger;
  /** Echo audit lines on stdout as well as in the audit file; default true. */
  echoAudit?: boolean;
  /** Adjusts the settings after they are pointed at the local stores (tests shorten timeouts). */
  configure?: (settings: Settings) => Settings;
}

/** A running local edge. */
export interface LocalEdge {
  edgeUrl: string;
  apiUrl: string;
  /** `<id>.<secret>` of the local operator token. */
  adminToken: string;
  adminTokenFile: string;
  apiTokenFile: string;
  /** The local audit trail (one JSON line per admin request). */
  auditFile: string;
  api: LocalApi;
  stores: ProvisionedStores;
  settings: Settings;
  close(): Promise<void>;
}

/** Id of the operator token `npm start` creates. */
export const LOCAL_ADMIN_TOKEN_ID = 'local-admin';

/** Starts the local Fastly API and the edge; provisions and seeds stores on first start. */
export async function startLocalEdge(options: LocalEdgeOptions): Promise<LocalEdge> {
  const host = options.host ?? '127.0.0.1';
  const settings = await loadSettingsFile(options.settingsPath ?? 'trusted-server.toml');
  const seed = await readLocalSeed(options.fastlyTomlPath ?? 'fastly.toml');
  await mkdir(options.stateDir, { recursive: true, mode: 0o700 });
  const api = await startLocalApi({
    stateDir: options.stateDir,
    host,
    port: options.apiPort ?? 7677,
  });
  try {
    const connection = {
      endpoint: api.url,
      token: api.token,
      fetch: (r: Request) => fetch(r),
      timeoutMs: 10_000,
    };
    // Trust decision: the local API signs its client keys with a key it generated at start, not
    // Fastly's, so secrets sealed for it must be checked against that key. It is asked for once,
    // over loopback, from the server this process has just started and holds the token of; the
    // app and this provisioning client then trust exactly that key for this run.
    const secretSigningKey = await new FastlyApi(connection).getSecretSigningKey();
    const client = new FastlyApi({ ...connection, secretSigningKey });
    const declared = Object.values(settings.deployments);
    const stores = await provisionStores(client, seed, {
      configStores: declared.map((d) => d.config_store),
      secretStores: declared.map((d) => d.secret_store),
    });
    await installApiToken(client, stores, api.token);
    const adminTokenFile = join(options.stateDir, 'admin-token');
    const credential = await ensureAdminTokenFile(adminTokenFile);
    const adminToken = `${credential.id}.${credential.secret}`;
    await installAdminToken(client, stores, { ...credential, role: 'operator' });

    // Same settings file as the Fastly build, pointed at the local stores and API.
    const pointed: Settings = {
      ...settings,
      request_signing: {
        ...settings.request_signing,
        config_store_id: stores.jwksStoreId,
        secret_store_id: stores.signingKeysStoreId,
        lock_store_id: stores.locksStoreId,
      },
      fastly_api: {
        ...settings.fastly_api,
        endpoint: api.url,
        secret_signing_key: secretSigningKey,
      },
      deployments: Object.fromEntries(
        Object.entries(settings.deployments).map(([name, d]) => [
          name,
          {
            ...d,
            config_store_id: stores.configIds.get(d.config_store) ?? d.config_store_id,
            secret_store_id: stores.secretIds.get(d.secret_store) ?? d.secret_store_id,
          },
        ]),
      ),
    };
    const local = options.configure ? options.configure(pointed) : pointed;
    const logger = options.logger ?? jsonLogger();
    const auditFile = join(options.stateDir, 'audit.log');
    const echo =
      options.echoAudit === false ? undefined : (line: string) => void process.stdout.write(line);
    const edge = await startEdgeServer(
      localServices(local, api.state, logger, fileAuditSink(auditFile, echo)),
      host,
      options.edgePort ?? 7676,
    );
    return {
      edgeUrl: edge.url,
      apiUrl: api.url,
      adminToken,
      adminTokenFile,
      apiTokenFile: join(options.stateDir, 'fastly-api-token'),
      auditFile,
      api,
      stores,
      settings: local,
      close: async () => {
        await edge.close();
        await api.close();
      },
    };
  } catch (err) {
    await api.close();
    throw err;
  }
}

/** Reads the local admin token, creating it (mode 0600) on first start. */
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
