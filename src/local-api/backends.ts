// Backends: `/service/{id}/version/{n}/backend[/{name}]`, the named origins a Compute program
// fetches through (this app reaches the management API through `fastly_api`). Form-encoded
// create answered 200 with the backend, a plain JSON array for the list, as go-fastly's recorded
// responses (fastly/fixtures/backends) show; only the fields `tsctl setup` sets are modelled.
// A duplicate name is 409 (Fastly's exact answer is unverified); edits to a locked version are
// 422 `Version locked` (services.ts).
import { formBody, formField } from './body.js';
import { badRequest, conflict, notFound } from './errors.js';
import type { Backend } from './model.js';
import { isoSeconds } from './model.js';
import type { Reply, RequestContext, Route } from './router.js';
import { json } from './router.js';
import { checkEditable, versionOr404 } from './services.js';
import { MAX_NAME_CHARS } from './validate.js';

/** The backend as Fastly serializes it (the fields modelled here). */
function view(serviceId: string, version: number, b: Backend): Record<string, unknown> {
  return {
    name: b.name,
    address: b.address,
    port: b.port,
    use_ssl: b.useSsl,
    ssl_cert_hostname: b.sslCertHostname,
    ssl_sni_hostname: b.sslSniHostname,
    override_host: b.overrideHost,
    service_id: serviceId,
    version,
    created_at: b.createdAt,
    updated_at: b.updatedAt,
    deleted_at: null,
  };
}

function list(ctx: RequestContext): Reply {
  const { service, version } = versionOr404(ctx.db.state, ctx.params);
  return json(
    200,
    [...version.backends.values()].map((b) => view(service.id, version.number, b)),
  );
}

function describe(ctx: RequestContext): Reply {
  const { service, version } = versionOr404(ctx.db.state, ctx.params);
  const backend = version.backends.get(ctx.params['name'] ?? '');
  if (backend === undefined) throw notFound();
  return json(200, view(service.id, version.number, backend));
}

/** A form field that is absent or empty: null. */
function optional(form: URLSearchParams, name: string): string | null {
  const value = form.get(name);
  return value === null || value === '' ? null : value;
}

/**
 * `POST`, form `name`, `address` (required), `port` (default 80, or 443 with `use_ssl`),
 * `use_ssl` (`1`/`true`), `ssl_cert_hostname`, `ssl_sni_hostname`, `override_host`.
 */
function create(ctx: RequestContext): Reply {
  const form = formBody(ctx.body);
  const name = formField(form, 'name');
  const address = formField(form, 'address');
  if (name.trim() === '' || name.length > MAX_NAME_CHARS) {
    throw badRequest('Invalid name', `1 to ${MAX_NAME_CHARS} characters`);
  }
  if (address.trim() === '') throw badRequest('Missing required field: address');
  const ssl = form.get('use_ssl');
  const useSsl = ssl === '1' || ssl === 'true';
  const portText = form.get('port');
  const port = portText === null || portText === '' ? (useSsl ? 443 : 80) : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw badRequest('Invalid port', 'port must be a whole number from 1 to 65535');
  }
  const result = ctx.db.mutate((state) => {
    const { service, version } = versionOr404(state, ctx.params);
    checkEditable(service, version);
    if (version.backends.has(name)) {
      throw conflict(`a backend named '${name}' already exists on version ${version.number}`);
    }
    const now = isoSeconds();
    const backend: Backend = {
      name,
      address,
      port,
      useSsl,
      sslCertHostname: optional(form, 'ssl_cert_hostname'),
      sslSniHostname: optional(form, 'ssl_sni_hostname'),
      overrideHost: optional(form, 'override_host'),
      createdAt: now,
      updatedAt: now,
    };
    version.backends.set(name, backend);
    version.updatedAt = now;
    return { serviceId: service.id, version: version.number, backend };
  });
  return json(200, view(result.serviceId, result.version, result.backend));
}

/** Routes for backends. */
export const backendRoutes: Route[] = [
  { pattern: '/service/:id/version/:version/backend', methods: { GET: list, POST: create } },
  { pattern: '/service/:id/version/:version/backend/:name', methods: { GET: describe } },
];
