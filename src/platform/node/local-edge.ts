// The local edge as one object: the local Fastly API, provisioned and seeded, and the app on Node
// in front of it. `npm start` runs it; the end-to-end tests start it on free ports.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Settings } from '../../core/settings.js';
import type { Logger } from '../../http/services.js';
import { startLocalApi, updateClaim, type LocalApi } from '../../local-api/index.js';
import { fileAuditSink } from './audit-file.js';
import { startEdgeServer } from './edge-server.js';
import { readLocalSeed } from './fastly-toml.js';
import { provisionLocalStack } from './local-stack.js';
import { installAdminToken, type ProvisionedStores } from './provision.js';
import { jsonLogger, localServices } from './services.js';
import { readSettingsFile } from './settings-file.js';

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
  /** How far the edge's config reads lag the local API; default TSK_PROPAGATION_DELAY_MS or 0. */
  propagationDelayMs?: number;
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
  /** What of the settings file this service left alone (Trusted Server's sections and keys). */
  ignoredSettings: string[];
  close(): Promise<void>;
}

/** Id of the operator token `npm start` creates. */
export { LOCAL_ADMIN_TOKEN_ID } from './local-stack.js';

/** Starts the local Fastly API and the edge; provisions and seeds stores on first start. */
export async function startLocalEdge(options: LocalEdgeOptions): Promise<LocalEdge> {
  const host = options.host ?? '127.0.0.1';
  const { settings, ignored } = await readSettingsFile(
    options.settingsPath ?? 'trusted-server.toml',
  );
  const seed = await readLocalSeed(options.fastlyTomlPath ?? 'fastly.toml');
  await mkdir(options.stateDir, { recursive: true, mode: 0o700 });
  const api = await startLocalApi({
    stateDir: options.stateDir,
    host,
    port: options.apiPort ?? 7677,
    ...(options.propagationDelayMs !== undefined
      ? { propagationDelayMs: options.propagationDelayMs }
      : {}),
  });
  try {
    const { client, stores, secretSigningKey, credential, adminTokenFile } =
      await provisionLocalStack(api, { stateDir: options.stateDir, settings, seed });
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
    // Tools find the running edge from the state directory alone (tsctl token --local).
    updateClaim(options.stateDir, { edge_url: edge.url });
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
      ignoredSettings: ignored,
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
