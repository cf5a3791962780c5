// The Fastly Compute entry: every request goes to the platform-neutral app with Fastly's services.
import { handle } from '../../http/app.js';
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

addEventListener('fetch', (event) => {
  event.respondWith(handle(event.request, fastlyServices(settings), { ip: event.client.address }));
});
