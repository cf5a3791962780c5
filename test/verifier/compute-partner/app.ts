// A partner's Fastly Compute service, as small as it gets: it receives `{payload, signature}` made
// by the publisher, checks it with trusted-server-keys/verifier (the built package entry, as a
// partner installs it) and answers the verifier's result as JSON. The publisher's key document is
// fetched through the named backend `publisher`; which publisher (host, discovery URL) comes from
// the config store `partner`, so the same wasm serves any publisher.
//
// Built and run by test/verifier/compute-partner.wasm.test.ts (the parity run, `npm run test:wasm`).
// This file is a Compute app of its own (a partner's), not part of the service's layering.
// eslint-disable-next-line no-restricted-imports
import { ConfigStore } from 'fastly:config-store';
import { createVerifier, type Verifier } from 'trusted-server-keys/verifier';

/** The part of Fastly's FetchEvent this app uses (the global types of @fastly/js-compute). */
interface FetchEvent {
  readonly request: Request;
  respondWith(response: Response | PromiseLike<Response>): void;
}
declare function addEventListener(type: 'fetch', listener: (event: FetchEvent) => void): void;

const BACKEND = 'publisher';

/** Built on the first request, not at top level: Wizer snapshots top level, before any store. */
let verifier: Verifier | undefined;

function partnerVerifier(): Verifier {
  if (verifier) return verifier;
  const config = new ConfigStore('partner');
  const host = config.get('publisher_host');
  const discoveryUrl = config.get('discovery_url');
  if (!host || !discoveryUrl)
    throw new Error('config store partner needs publisher_host and discovery_url');
  verifier = createVerifier({
    discoveryUrl,
    host,
    // Fastly's fetch needs the backend named; the URL's path is what the backend is asked for.
    fetch: (url, init) => fetch(url, { ...init, backend: BACKEND } as RequestInit),
    // The edge it runs against may have no key log yet (the chain: test/e2e/key-log.test.ts).
    keyLog: false,
  });
  return verifier;
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

async function handle(request: Request): Promise<Response> {
  if (request.method !== 'POST') return json(405, { error: 'POST {payload, signature}' });
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return json(400, { error: 'body is not JSON' });
  }
  const { payload, signature } = (body ?? {}) as { payload?: unknown; signature?: unknown };
  if (typeof payload !== 'string' || typeof signature !== 'string')
    return json(400, { error: 'payload and signature must be strings' });
  const result = await partnerVerifier().verify({ payload, signature });
  // 200 either way: the answer is the verifier's result; a refusal is not a failure of this app.
  return json(200, result);
}

addEventListener('fetch', (event) => {
  event.respondWith(
    handle(event.request).catch((err: unknown) =>
      json(500, { error: err instanceof Error ? err.message : String(err) }),
    ),
  );
});
