// The Fastly Compute entry: every request goes to the platform-neutral app with Fastly's services.
import { env } from 'fastly:env';
import { precomputeBaseTable } from '../../core/crypto/ed25519.js';
import { handle } from '../../http/app.js';
import { WARM_UP_DONE, WARM_UP_FAILED, warmUp, type WarmUpReport } from '../../http/warm-up.js';
import type { Settings } from '../../core/settings.js';
import { fastlyServices } from './services.js';
import { embeddedSettings } from './settings.js';

/** The part of Fastly's FetchEvent the entry uses (the global types of @fastly/js-compute). */
interface FetchEvent {
  readonly request: Request;
  readonly client: { readonly address: string };
  respondWith(response: Response | PromiseLike<Response>): void;
}

declare function addEventListener(type: 'fetch', listener: (event: FetchEvent) => void): void;

// Validated here, at top level, so Wizer runs it once while building the wasm: a bad
// trusted-server.toml fails the build, and each request starts from the already-parsed snapshot
// (Compute instantiates the snapshot per request, so a lazy cache would re-parse every time).
const settings = embeddedSettings();
// Likewise the Ed25519 base-point table: built once here, it is in the snapshot instead of being
// rebuilt by the first sign or verify of every request.
precomputeBaseTable();
// And the hot paths' compiled code and first-use state: each route once, with public material and
// in-memory services (src/http/warm-up.ts). Wizer runs the promise jobs before it snapshots; a
// failure prints a line the build refuses (scripts/build-wasm.mjs), never a broken service.
export const warmedUp: Promise<WarmUpReport | undefined> = warmUp(settings).then(
  (report) => {
    console.log(`${WARM_UP_DONE} ${report.routed.length} routes`);
    return report;
  },
  (err: unknown) => {
    console.log(`${WARM_UP_FAILED} ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  },
);

/**
 * The key that must sign the secret-store client keys private keys are sealed to. On Fastly the
 * environment holds only Fastly's own variables, so this is always the pinned Fastly key; a local
 * Compute host (`npm run serve`) sets TSK_SECRET_SIGNING_KEY to its local Fastly API's key.
 */
function requestSettings(): Settings {
  const local = env('TSK_SECRET_SIGNING_KEY');
  if (!local) return settings;
  return { ...settings, fastly_api: { ...settings.fastly_api, secret_signing_key: local } };
}

addEventListener('fetch', (event) => {
  event.respondWith(
    handle(event.request, fastlyServices(requestSettings()), { ip: event.client.address }),
  );
});
