// Resource links: `/service/{id}/version/{n}/resource[/{link_id}]`, which attach a config, secret
// or KV store to a service version under the name its edge code opens it by. Shapes follow
// go-fastly's recorded responses (fastly/fixtures/resources): form `resource_id` and `name`,
// 200 with the link, a plain array for the list, `{"status":"ok"}` on delete. A KV store link
// answers `resource_type: "object-store"` as recorded; `config` and `secret-store` for the others
// are unverified. Edits to a locked version are 422 `Version locked` (services.ts).
import { formBody, formField } from './body.js';
import { badRequest, conflict, notFound } from './errors.js';
import type { ResourceLink, ResourceType, Service, ServiceVersion, StateData } from './model.js';
import { isoSeconds, storeId } from './model.js';
import type { Reply, RequestContext, Route } from './router.js';
import { json } from './router.js';
import { checkEditable, versionOr404 } from './services.js';
import { MAX_NAME_CHARS } from './validate.js';

/** The link as Fastly serializes it. */
function view(serviceId: string, version: number, link: ResourceLink): Record<string, unknown> {
  return {
    id: link.id,
    name: link.name,
    service_id: serviceId,
    version,
    resource_id: link.resourceId,
    resource_type: link.resourceType,
    created_at: link.createdAt,
    updated_at: link.updatedAt,
    deleted_at: null,
    href: null,
  };
}

/** What kind of store `id` names, or undefined when it names none. */
export function resourceTypeOf(state: Readonly<StateData>, id: string): ResourceType | undefined {
  if (state.configStores.has(id)) return 'config';
  if (state.secretStores.has(id)) return 'secret-store';
  if (state.kvStores.has(id)) return 'object-store';
  return undefined;
}

/**
 * Link names are what the edge opens a store by, so they keep to the characters the edge's store
 * names use (config stores: letters, digits, `_` and spaces; secret stores: letters, digits, `_`,
 * `-` and `.`): non-empty, at most 255 characters of those. Fastly's own API rule is unverified;
 * whether a given name suits the kind of store it links is left to the edge code's names.
 */
function checkLinkName(name: string): void {
  if (name === '' || name.length > MAX_NAME_CHARS || !/^[A-Za-z0-9_. -]+$/.test(name)) {
    throw badRequest(
      'Invalid name',
      `1 to ${MAX_NAME_CHARS} letters, digits, underscores, dashes, periods or spaces; got ${JSON.stringify(name.slice(0, 64))}`,
    );
  }
}

/**
 * Two links of one version may not share a name (the edge could not tell them apart) nor link
 * the same store twice. Fastly's status for this is unverified; 409 as for other duplicates.
 */
function checkUnique(
  version: ServiceVersion,
  name: string,
  resourceId?: string,
  exceptId = '',
): void {
  for (const other of version.resources.values()) {
    if (other.id === exceptId) continue;
    if (other.name === name) {
      throw conflict(`a resource named '${name}' is already linked to version ${version.number}`);
    }
    if (other.resourceId === resourceId) {
      throw conflict(`resource '${resourceId}' is already linked to version ${version.number}`);
    }
  }
}

function linkOr404(version: ServiceVersion, id: string): ResourceLink {
  const link = version.resources.get(id);
  if (link === undefined) throw notFound();
  return link;
}

function list(ctx: RequestContext): Reply {
  const { service, version } = versionOr404(ctx.db.state, ctx.params);
  return json(
    200,
    [...version.resources.values()].map((l) => view(service.id, version.number, l)),
  );
}

/**
 * `POST`, form `resource_id` (an existing config, secret or KV store, else 400: Fastly's wording
 * is unverified) and `name` (absent or empty: the store's own name, which is what Fastly's CLI
 * documents for an omitted `--name`; the CLI then sends `name=`).
 */
function create(ctx: RequestContext): Reply {
  const form = formBody(ctx.body);
  const resourceId = formField(form, 'resource_id');
  const result = ctx.db.mutate((state) => {
    const { service, version } = versionOr404(state, ctx.params);
    checkEditable(service, version);
    const type = resourceTypeOf(state, resourceId);
    if (type === undefined) {
      throw badRequest(
        'Invalid resource_id',
        `no config, secret or KV store has id '${resourceId}'`,
      );
    }
    // Fastly's CLI sends `name=` when `--name` is omitted: empty is taken as absent.
    const given = form.get('name') ?? '';
    const name = given === '' ? storeName(state, resourceId) : given;
    checkLinkName(name);
    checkUnique(version, name, resourceId);
    const now = isoSeconds();
    const link: ResourceLink = {
      id: storeId(),
      name,
      resourceId,
      resourceType: type,
      createdAt: now,
      updatedAt: now,
    };
    version.resources.set(link.id, link);
    version.updatedAt = now;
    return { service, version: version.number, link };
  });
  return json(200, view(result.service.id, result.version, result.link));
}

function storeName(state: Readonly<StateData>, id: string): string {
  return (
    state.configStores.get(id)?.name ??
    state.secretStores.get(id)?.name ??
    state.kvStores.get(id)?.name ??
    ''
  );
}

function describe(ctx: RequestContext): Reply {
  const { service, version } = versionOr404(ctx.db.state, ctx.params);
  const link = linkOr404(version, ctx.params['link'] ?? '');
  return json(200, view(service.id, version.number, link));
}

/** Runs `change` on the draft's copy of the addressed link of an editable version. */
function editLink(
  ctx: RequestContext,
  change: (service: Service, version: ServiceVersion, link: ResourceLink, now: string) => void,
): { serviceId: string; version: number; link: ResourceLink } {
  const linkId = ctx.params['link'] ?? '';
  linkOr404(versionOr404(ctx.db.state, ctx.params).version, linkId);
  return ctx.db.mutate((state) => {
    const { service, version } = versionOr404(state, ctx.params);
    const link = linkOr404(version, linkId);
    checkEditable(service, version);
    const now = isoSeconds();
    change(service, version, link, now);
    version.updatedAt = now;
    return { serviceId: service.id, version: version.number, link };
  });
}

/** `PUT`, form `name`: renames the link (the store it points at never changes). */
function update(ctx: RequestContext): Reply {
  const name = formField(formBody(ctx.body), 'name');
  checkLinkName(name);
  const r = editLink(ctx, (_service, version, link, now) => {
    checkUnique(version, name, undefined, link.id);
    link.name = name;
    link.updatedAt = now;
  });
  return json(200, view(r.serviceId, r.version, r.link));
}

function remove(ctx: RequestContext): Reply {
  editLink(ctx, (_service, version, link) => {
    version.resources.delete(link.id);
  });
  return json(200, { status: 'ok' });
}

/** The services that link store `id` in any of their versions (for the stores' `/services`). */
export function servicesLinking(state: Readonly<StateData>, id: string): Service[] {
  return [...state.services.values()].filter((s) =>
    s.versions.some((v) => [...v.resources.values()].some((l) => l.resourceId === id)),
  );
}

/** Routes for resource links. */
export const resourceLinkRoutes: Route[] = [
  { pattern: '/service/:id/version/:version/resource', methods: { GET: list, POST: create } },
  {
    pattern: '/service/:id/version/:version/resource/:link',
    methods: { GET: describe, PUT: update, DELETE: remove },
  },
];
