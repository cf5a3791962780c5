// Trusted Server's documented scripts against the JSON routes, in-process: `curl -d '{...}'`
// (labelled form-urlencoded), `curl -X POST` (no body, no type) and plain text are read as JSON,
// while what a browser sends on another site's behalf (a cross-site <form> post, a no-cors fetch)
// is refused 403 `cross_site_request` before the route runs. One row per way a request arrives.
import { describe, expect, it } from 'vitest';
import { STORE_NAMES } from '../../src/core/deployments.js';
import { ROUTES } from '../../src/http/routes.js';
import { addAdminToken, DEV_KEY, memoryServices, testApp, withDevKey } from '../support/app.js';

/** The origin testApp serves on (its request URLs). */
const SELF = 'https://keys.publisher.example';
const FORM = 'application/x-www-form-urlencoded';

/** How a request arrives: its body bytes (never a string: fetch would add text/plain) and headers. */
interface Arrival {
  type?: string;
  body?: string;
  headers?: Record<string, string>;
}

async function world() {
  const services = memoryServices(withDevKey());
  const token = await addAdminToken(services, 'ops1', 'ops1-secret-0123456789abcdef', 'operator');
  const app = testApp(services);
  const send = async (path: string, arrival: Arrival, auth = true) => {
    const headers = new Headers(arrival.headers);
    if (auth) headers.set('authorization', `Bearer ${token}`);
    if (arrival.type !== undefined) headers.set('content-type', arrival.type);
    const res = await app.request(path, {
      method: 'POST',
      headers,
      ...(arrival.body === undefined ? {} : { body: new TextEncoder().encode(arrival.body) }),
    });
    const text = await res.text();
    return { status: res.status, json: JSON.parse(text) as Record<string, unknown> };
  };
  const currentKid = () => services.config.get(STORE_NAMES.jwks)?.get('current-kid');
  return { services, app, send, currentKid };
}

// Each accepted row signs (the route reads a body and changes nothing), so rows do not interact.
const ACCEPTED: Array<[string, Arrival]> = [
  ['curl -d (form-urlencoded label, JSON body)', { type: FORM, body: '{"id":"req-1"}' }],
  ['text/plain with a JSON body', { type: 'text/plain; charset=utf-8', body: '{"id":"req-1"}' }],
  ['no Content-Type, a JSON body', { body: '{"id":"req-1"}' }],
  ['application/json, as before', { type: 'application/json', body: '{"id":"req-1"}' }],
  [
    'a same-origin fetch (Origin is ours, Sec-Fetch-Site same-origin)',
    {
      type: 'text/plain',
      body: '{"id":"req-1"}',
      headers: { origin: SELF, 'sec-fetch-site': 'same-origin' },
    },
  ],
  [
    'a browser request the user started (Sec-Fetch-Site none, no Origin)',
    { type: FORM, body: '{"id":"req-1"}', headers: { 'sec-fetch-site': 'none' } },
  ],
];

const CROSS_SITE: Array<[string, Arrival]> = [
  [
    'a cross-site <form> post (Origin and Sec-Fetch-Site say so)',
    {
      type: FORM,
      body: '{"id":"req-1"}',
      headers: { origin: 'https://attacker.example', 'sec-fetch-site': 'cross-site' },
    },
  ],
  [
    'an empty cross-site form post (Origin only, an older browser)',
    { type: FORM, body: '', headers: { origin: 'https://attacker.example' } },
  ],
  [
    'a same-site sibling (Sec-Fetch-Site same-site, no Origin)',
    { type: 'text/plain', body: '{"id":"req-1"}', headers: { 'sec-fetch-site': 'same-site' } },
  ],
  [
    'an opaque origin (Origin: null, a sandboxed frame)',
    { type: FORM, headers: { origin: 'null' } },
  ],
  [
    'our host over another scheme (http, not https)',
    { type: FORM, body: '{"id":"req-1"}', headers: { origin: 'http://keys.publisher.example' } },
  ],
  [
    'a no-cors fetch with no body and no type',
    { headers: { origin: 'https://attacker.example', 'sec-fetch-site': 'cross-site' } },
  ],
  ['an Origin that is not a URL', { type: 'text/plain', headers: { origin: 'not a url' } }],
];

describe('JSON routes read what scripts send', () => {
  it.each(ACCEPTED)('accepts %s', async (_name, arrival) => {
    const { send } = await world();
    const res = await send('/admin/keys/sign', arrival);
    expect(res.status).toBe(200);
    expect(res.json['kid']).toBe(DEV_KEY.kid);
  });

  it('curl -X POST without -d (no body, no Content-Type) rotates', async () => {
    const { send, currentKid } = await world();
    const res = await send('/admin/keys/rotate', {});
    expect(res.status).toBe(200);
    expect(res.json['previous_kid']).toBe(DEV_KEY.kid);
    expect(currentKid()).toBe(res.json['new_kid']);
  });

  it('curl -d \'{"kid": ..., "delete": false}\' deactivates, as the guide writes it', async () => {
    const { send } = await world();
    const rotated = await send('/admin/keys/rotate', { type: FORM, body: '{}' });
    expect(rotated.status).toBe(200);
    const res = await send('/admin/keys/deactivate', {
      type: FORM,
      body: `{"kid": "${DEV_KEY.kid}", "delete": false}`,
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ deactivated_kid: DEV_KEY.kid, deleted: false });
  });

  it('reads a form-labelled body as JSON only: fields are refused 400, naming the label', async () => {
    const { send } = await world();
    const res = await send('/admin/keys/sign', { type: FORM, body: 'id=req-1' });
    expect(res.status).toBe(400);
    expect(res.json['code']).toBe('invalid_request');
    expect(String(res.json['detail'] ?? res.json['error'])).toContain(
      'sent as application/x-www-form-urlencoded',
    );
  });

  it.each([
    ['multipart/form-data; boundary=x', '{"id":"req-1"}'],
    ['text/html', '{"id":"req-1"}'],
    ['application/jsonx', '{"id":"req-1"}'],
  ])('still refuses %s with 415', async (type, body) => {
    const { send } = await world();
    const res = await send('/admin/keys/sign', {
      type,
      body,
      headers: { 'sec-fetch-site': 'same-origin' },
    });
    expect(res.status).toBe(415);
    expect(res.json['code']).toBe('unsupported_media_type');
  });
});

describe('a browser request on behalf of another site stays refused', () => {
  it.each(CROSS_SITE)('refuses %s with 403 cross_site_request', async (_name, arrival) => {
    const { send } = await world();
    const res = await send('/admin/keys/sign', arrival);
    expect(res.status).toBe(403);
    expect(res.json['code']).toBe('cross_site_request');
  });

  it('refuses the cross-site rotate with cached credentials before anything changes', async () => {
    const { send, currentKid, services } = await world();
    const res = await send('/admin/keys/rotate', {
      type: FORM,
      headers: { origin: 'https://attacker.example', 'sec-fetch-site': 'cross-site' },
    });
    expect(res.status).toBe(403);
    expect(currentKid()).toBe(DEV_KEY.kid);
    expect(services.audits.at(-1)).toMatchObject({
      outcome: 'refused',
      status: 403,
      error_code: 'cross_site_request',
    });
  });

  it('refuses a cross-site key set transition with no body', async () => {
    const { send } = await world();
    const res = await send(`/admin/deployments/default/keysets/${DEV_KEY.kid}/taint`, {
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    expect(res.status).toBe(403);
    expect(res.json['code']).toBe('cross_site_request');
  });

  it('judges the origin by the Host the client addressed, not the URL the platform built', async () => {
    const { app, services } = await world();
    const token = await addAdminToken(services, 'ops2', 'ops2-secret-0123456789abcdef', 'operator');
    // The Node edge builds every URL on http://localhost; the Host header says where the browser was.
    const request = (origin: string) =>
      new Request('http://localhost/admin/keys/sign', {
        method: 'POST',
        headers: {
          host: '127.0.0.1:7676',
          origin,
          authorization: `Bearer ${token}`,
          'content-type': 'text/plain',
        },
        body: new TextEncoder().encode('{"id":"req-1"}'),
      });
    expect((await app.fetch(request('http://127.0.0.1:7676'))).status).toBe(200);
    expect((await app.fetch(request('http://localhost'))).status).toBe(403);
  });
});

describe('every route that takes a body', () => {
  // The table, not a list kept by hand: a route added later is held to the same rule.
  const writes = ROUTES.flatMap((route) =>
    Object.keys(route.methods)
      .filter((method) => method !== 'GET' && method !== 'HEAD' && method !== 'DELETE')
      .map((method) => ({
        method,
        path: route.pattern
          .replace(':deployment', 'default')
          .replace(':id', DEV_KEY.kid)
          .replace(':action', 'taint'),
      })),
  );

  it('covers the admin writes and verify', () => {
    expect(writes.length).toBeGreaterThanOrEqual(9);
    expect(writes.map((w) => w.path)).toContain('/_ts/admin/keys/rotate');
  });

  it.each(writes)('$method $path refuses an empty cross-site post, changing nothing', async (w) => {
    const { app, services, currentKid } = await world();
    const token = await addAdminToken(services, 'ops3', 'ops3-secret-0123456789abcdef', 'operator');
    const res = await app.request(w.path, {
      method: w.method,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': FORM,
        origin: 'https://attacker.example',
      },
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { code: string }).code).toBe('cross_site_request');
    expect(currentKid()).toBe(DEV_KEY.kid);
  });
});

describe('/verify-signature', () => {
  const body = JSON.stringify({ payload: 'hello', signature: 'A'.repeat(86), kid: DEV_KEY.kid });

  it('accepts curl -d and a cross-origin JSON fetch (CORS is open there)', async () => {
    const { send } = await world();
    for (const arrival of [
      { type: FORM, body },
      { type: 'application/json', body, headers: { origin: 'https://partner.example' } },
    ]) {
      const res = await send('/verify-signature', arrival, false);
      expect(res.status).toBe(200);
      expect(res.json['verified']).toBe(false);
    }
  });

  it('refuses a cross-site text/plain post (no preflight) with 403', async () => {
    const { send } = await world();
    const res = await send(
      '/verify-signature',
      { type: 'text/plain', body, headers: { origin: 'https://attacker.example' } },
      false,
    );
    expect(res.status).toBe(403);
    expect(res.json['code']).toBe('cross_site_request');
  });
});
