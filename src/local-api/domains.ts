// Domains: `/service/{id}/version/{n}/domain[/{name}]`, the host names a service version answers
// on. Shapes follow go-fastly's recorded responses (fastly/fixtures/domains): form-encoded create
// (`name`, `comment`) answered 200 with the domain, a plain JSON array for the list,
// `{"status":"ok"}` on delete. `fastly compute publish` lists them and, on a version with none,
// creates its default `<random>.edgecompute.app`. A name already on this version, or on another
// service, is 409 (Fastly's exact wording is unverified); edits to a locked version are 422.
import { formBody, formField } from './body.js';
import { badRequest, conflict, notFound } from './errors.js';
import type { Domain } from './model.js';
import { isoSeconds } from './model.js';
import type { Reply, RequestContext, Route } from './router.js';
import { json } from './router.js';
import { checkEditable, versionOr404 } from './services.js';

/** A host name, optionally a wildcard (`*.example.com`): two or more DNS labels, 253 at most. */
const DOMAIN =
  /^(\*\.)?[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** The domain as Fastly serializes it. */
export function domainView(serviceId: string, version: number, d: Domain): Record<string, unknown> {
  return {
    name: d.name,
    comment: d.comment,
    service_id: serviceId,
    version,
    created_at: d.createdAt,
    updated_at: d.updatedAt,
    deleted_at: null,
  };
}

function list(ctx: RequestContext): Reply {
  const { service, version } = versionOr404(ctx.db.state, ctx.params);
  return json(
    200,
    [...version.domains.values()].map((d) => domainView(service.id, version.number, d)),
  );
}

function describe(ctx: RequestContext): Reply {
  const { service, version } = versionOr404(ctx.db.state, ctx.params);
  const domain = version.domains.get(ctx.params['name'] ?? '');
  if (domain === undefined) throw notFound();
  return json(200, domainView(service.id, version.number, domain));
}

/** `POST`, form `name` (required, a host name) and `comment`. */
function create(ctx: RequestContext): Reply {
  const form = formBody(ctx.body);
  const name = formField(form, 'name').toLowerCase();
  if (name.length > 253 || !DOMAIN.test(name)) {
    throw badRequest(
      'Invalid domain name',
      `${JSON.stringify(name)} is not a host name (labels of letters, digits and hyphens, e.g. www.example.com)`,
    );
  }
  const comment = form.get('comment') ?? '';
  const result = ctx.db.mutate((state) => {
    const { service, version } = versionOr404(state, ctx.params);
    checkEditable(service, version);
    if (version.domains.has(name)) {
      throw conflict(`the domain '${name}' already exists on version ${version.number}`);
    }
    for (const other of state.services.values()) {
      if (other.id === service.id) continue;
      if (other.versions.some((v) => v.domains.has(name))) {
        throw conflict(`the domain '${name}' is taken by another service`);
      }
    }
    const now = isoSeconds();
    const domain: Domain = { name, comment, createdAt: now, updatedAt: now };
    version.domains.set(name, domain);
    version.updatedAt = now;
    return { serviceId: service.id, version: version.number, domain };
  });
  return json(200, domainView(result.serviceId, result.version, result.domain));
}

function remove(ctx: RequestContext): Reply {
  const name = ctx.params['name'] ?? '';
  ctx.db.mutate((state) => {
    const { service, version } = versionOr404(state, ctx.params);
    if (!version.domains.has(name)) throw notFound();
    checkEditable(service, version);
    version.domains.delete(name);
    version.updatedAt = isoSeconds();
  });
  return json(200, { status: 'ok' });
}

/** Routes for domains. */
export const domainRoutes: Route[] = [
  { pattern: '/service/:id/version/:version/domain', methods: { GET: list, POST: create } },
  {
    pattern: '/service/:id/version/:version/domain/:name',
    methods: { GET: describe, DELETE: remove },
  },
];
