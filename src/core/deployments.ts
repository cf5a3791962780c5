// Deployments: independent sets of keys, each with its own stores. `default` is Trusted
// Server's `[request_signing]`; others are declared under `[deployments.NAME]`.
import { TskError } from './errors.js';
import type { Settings } from './settings.js';

/** Edge names of the stores, fixed by Trusted Server compatibility. */
export const STORE_NAMES = {
  jwks: 'jwks_store',
  signingKeys: 'signing_keys',
  apiKeys: 'api-keys',
  adminTokens: 'admin_tokens',
  locks: 'keyring_locks',
} as const;

/** Key of the Fastly API token inside the `api-keys` secret store. */
export const API_KEY_SECRET = 'api_key';

/** The name of the deployment Trusted Server's routes and the well-known documents serve. */
export const DEFAULT_DEPLOYMENT = 'default';

/** Everything needed to read and change one deployment. */
export interface DeploymentConfig {
  name: string;
  /** Edge names, for reads. */
  configStoreName: string;
  secretStoreName: string;
  /** Management-API ids, for writes. */
  configStoreId: string;
  secretStoreId: string;
  keyLifetimeDays: number;
}

/** Every deployment, `default` first. */
export function listDeployments(settings: Settings): DeploymentConfig[] {
  const signing = settings.request_signing;
  const out: DeploymentConfig[] = [
    {
      name: DEFAULT_DEPLOYMENT,
      configStoreName: STORE_NAMES.jwks,
      secretStoreName: STORE_NAMES.signingKeys,
      configStoreId: signing.config_store_id,
      secretStoreId: signing.secret_store_id,
      keyLifetimeDays: signing.key_lifetime_days,
    },
  ];
  for (const [name, d] of Object.entries(settings.deployments)) {
    out.push({
      name,
      configStoreName: d.config_store,
      secretStoreName: d.secret_store,
      configStoreId: d.config_store_id,
      secretStoreId: d.secret_store_id,
      keyLifetimeDays: d.key_lifetime_days ?? signing.key_lifetime_days,
    });
  }
  return out;
}

/** One deployment by name, or `deployment_not_found`. */
export function resolveDeployment(settings: Settings, name: string): DeploymentConfig {
  const found = listDeployments(settings).find((d) => d.name === name);
  if (!found) {
    throw new TskError(
      'deployment_not_found',
      `deployment "${name}" is not declared in trusted-server.toml`,
    );
  }
  return found;
}
