// Every route of the local API, in matching order: literal segments (`client-key`) come before
// the `{id}` parameter they would otherwise match.
import { backendRoutes } from './backends.js';
import type { ClientKeys } from './client-keys.js';
import { clientKeyRoutes } from './client-keys.js';
import { configItemRoutes } from './config-items.js';
import { domainRoutes } from './domains.js';
import { configStoreRoutes } from './config-stores.js';
import { kvKeyRoutes } from './kv-keys.js';
import { kvStoreRoutes } from './kv-stores.js';
import { packageRoutes } from './packages.js';
import { resourceLinkRoutes } from './resource-links.js';
import { Router } from './router.js';
import { secretStoreRoutes } from './secret-stores.js';
import { secretRoutes } from './secrets.js';
import { serviceRoutes } from './services.js';

/** The router for the whole API; `clientKeys` backs client-side encryption of secrets. */
export function createRouter(clientKeys: ClientKeys): Router {
  return new Router([
    ...configStoreRoutes,
    ...configItemRoutes,
    ...clientKeyRoutes(clientKeys),
    ...secretStoreRoutes,
    ...secretRoutes(clientKeys),
    ...kvStoreRoutes,
    ...kvKeyRoutes,
    ...serviceRoutes,
    ...resourceLinkRoutes,
    ...backendRoutes,
    ...domainRoutes,
    ...packageRoutes,
  ]);
}
