// The endorsed key log (docs/key-log.md), published next to the key documents:
// `/.well-known/trusted-server-key-log.json` for the default deployment and
// `/.well-known/deployments/NAME/key-log.json` for every deployment. Served as stored (it is
// rendered when a key commits): one read of the `key-log` item and one of the stored discovery
// document, whose first line carries the next scheduled transition that caps max-age as for the
// key documents (a partner then sees the endorsement of a key the schedule prepares as soon as
// the key itself). A deployment without a log answers 404 `not_found`, saying so.
import { resolveDeployment } from '../../core/deployments.js';
import { TskError } from '../../core/errors.js';
import {
  contentEtag,
  DOCUMENT_ITEM_KEYS,
  parseDocumentItem,
} from '../../core/keyring/key-documents.js';
import { KEY_LOG_ITEM } from '../../core/keyring/key-log.js';
import type { RequestContext } from '../context.js';
import { CORS_HEADERS } from '../responses.js';
import { STORE_NAMES } from '../services.js';
import { ifNoneMatchHits, keyDocumentCacheControl } from './discovery.js';

/** The default deployment's key log, beside Trusted Server's discovery document. */
export const KEY_LOG_PATH = '/.well-known/trusted-server-key-log.json';

/** A deployment's key log, beside its own documents. */
export function deploymentKeyLogPath(deployment: string): string {
  return `/.well-known/deployments/${deployment}/key-log.json`;
}

/** `GET|HEAD /.well-known/trusted-server-key-log.json` and `.../deployments/NAME/key-log.json`. */
export async function keyLogDocument(ctx: RequestContext): Promise<Response> {
  const name = ctx.params['deployment'];
  // `deployment_not_found` (404) for an undeclared name on the per-deployment path.
  const storeName =
    name === undefined
      ? STORE_NAMES.jwks
      : resolveDeployment(ctx.services.settings, name).configStoreName;
  const config = ctx.services.configStore(storeName);
  const [text, discovery] = await Promise.all([
    config.get(KEY_LOG_ITEM),
    config.get(DOCUMENT_ITEM_KEYS.discovery),
  ]);
  if (text === null) {
    throw new TskError(
      'not_found',
      `deployment "${name ?? 'default'}" has no key log yet: the service starts it when it next prepares, rotates in or adopts a key`,
    );
  }
  const next =
    discovery === null ? null : (parseDocumentItem(discovery)?.nextTransitionAtMs ?? null);
  const { settings, clock } = ctx.services;
  const etag = await contentEtag(text);
  const headers = {
    etag,
    'cache-control': keyDocumentCacheControl(settings.key_documents, next, clock.now()),
    ...CORS_HEADERS,
  };
  const inm = ctx.request.headers.get('if-none-match');
  if (inm !== null && ifNoneMatchHits(inm, etag))
    return new Response(null, { status: 304, headers });
  return new Response(ctx.request.method === 'HEAD' ? null : text, {
    status: 200,
    headers: { 'content-type': 'application/json', ...headers },
  });
}
