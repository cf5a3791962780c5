// Services and their versions: `/service[/{id}[/version[/{n}[/clone|activate|deactivate|lock]]]]`.
// Shapes and statuses follow go-fastly's recorded responses (fastly/fixtures/services/compute,
// fixtures/versions/compute): form-encoded create answered 200 with the service and its version 1,
// a plain JSON array for lists, `{"status":"ok"}` on delete. Activating a version locks it, and a
// locked version refuses edits with 422 `Version locked` (fixtures/tls_subscription/compute).
// A service exists so that stores can be linked to it (resource-links.ts), backends (backends.ts)
// and domains (domains.ts) declared on it and a package uploaded to it (packages.ts): what
// `tsctl setup` and Fastly's CLI (`compute publish`) need.
import { formBody, formField } from './body.js';
import { domainView } from './domains.js';
import { ApiError, badRequest, conflict, notFound } from './errors.js';
import type { Service, ServiceVersion, StateData } from './model.js';
import { isoSeconds, storeId } from './model.js';
import type { Reply, RequestContext, Route } from './router.js';
import { json } from './router.js';
import { MAX_NAME_CHARS } from './validate.js';

/** The customer every local service belongs to (Fastly answers the account's id). */
export const LOCAL_CUSTOMER_ID = 'LocalCustomer000000000';

/** Largest page of the service list (go-fastly asks for 100, its own maximum). */
const MAX_PER_PAGE = 1000;
/** Page size when `per_page` is absent (Fastly's documented default). */
const DEFAULT_PER_PAGE = 20;

/** A version as Fastly serializes it. */
export function versionView(serviceId: string, v: ServiceVersion): Record<string, unknown> {
  return {
    service_id: serviceId,
    number: v.number,
    active: v.active,
    locked: v.locked,
    deployed: false,
    staging: false,
    testing: false,
    comment: v.comment,
    created_at: v.createdAt,
    updated_at: v.updatedAt,
    deleted_at: null,
    // The recorded lists show the active version in the `production` environment.
    environments: v.active
      ? [{ service_id: serviceId, name: 'production', active_version: v.number }]
      : [],
  };
}

/** The active version, if any. */
function activeVersion(s: Service): ServiceVersion | undefined {
  return s.versions.find((v) => v.active);
}

/** The service as `GET /service/{id}` and `POST /service` answer it. */
export function serviceView(s: Service): Record<string, unknown> {
  return {
    id: s.id,
    name: s.name,
    type: s.type,
    comment: s.comment,
    customer_id: LOCAL_CUSTOMER_ID,
    created_at: s.createdAt,
    updated_at: s.updatedAt,
    deleted_at: null,
    paused: false,
    publish_key: '',
    environments: [],
    versions: s.versions.map((v) => versionView(s.id, v)),
  };
}

/**
 * The service as the list answers it: plus `version`, which go-fastly reads as the active
 * version; the recorded list shows 1 for a service never activated, so then it is the latest.
 */
export function serviceListView(s: Service): Record<string, unknown> {
  const current = activeVersion(s) ?? s.versions[s.versions.length - 1];
  return { ...serviceView(s), version: current?.number ?? null };
}

/** The service with this id, or 404 `Record not found`. */
export function serviceOr404(state: Readonly<StateData>, id: string): Service {
  const service = state.services.get(id);
  if (service === undefined) throw notFound();
  return service;
}

/** A version number from the path: a whole number ≥ 1 (anything else names no version: 404). */
function versionNumber(text: string): number {
  if (!/^[1-9][0-9]{0,8}$/.test(text)) throw notFound();
  return Number(text);
}

/** The version `params.version` of service `params.id`, or 404. */
export function versionOr404(
  state: Readonly<StateData>,
  params: Readonly<Record<string, string>>,
): { service: Service; version: ServiceVersion } {
  const service = serviceOr404(state, params['id'] ?? '');
  const number = versionNumber(params['version'] ?? '');
  const version = service.versions.find((v) => v.number === number);
  if (version === undefined) throw notFound();
  return { service, version };
}

/** Refuses edits to a locked (or active, which is always locked) version, as Fastly does. */
export function checkEditable(service: Service, version: ServiceVersion): void {
  if (version.locked || version.active) {
    throw new ApiError(
      422,
      'Version locked',
      `Version '${version.number}' for service '${service.id}' is locked`,
    );
  }
}

function checkServiceName(name: string): void {
  if (name.trim() === '') throw badRequest('Missing required field: name');
  if ([...name].length > MAX_NAME_CHARS) {
    throw badRequest(`name must be at most ${MAX_NAME_CHARS} characters`);
  }
}

function newVersion(number: number, comment: string, now: string): ServiceVersion {
  return {
    number,
    active: false,
    locked: false,
    comment,
    createdAt: now,
    updatedAt: now,
    resources: new Map(),
    backends: new Map(),
    domains: new Map(),
    package: null,
  };
}

/**
 * `POST /service`, form `name`, `type` (`wasm` or `vcl`; Fastly's default is `vcl`), `comment`.
 * A duplicate name is refused with 409: Fastly's exact answer is unverified, and `GET
 * /service/search?name=` can only answer one service per name.
 */
function create(ctx: RequestContext): Reply {
  const form = formBody(ctx.body);
  const name = formField(form, 'name');
  checkServiceName(name);
  const type = form.get('type') ?? 'vcl';
  if (type !== 'wasm' && type !== 'vcl') {
    throw badRequest('Invalid type', `type must be "wasm" or "vcl", got ${JSON.stringify(type)}`);
  }
  const comment = form.get('comment') ?? '';
  const service = ctx.db.mutate((state) => {
    for (const other of state.services.values()) {
      if (other.name === name) throw conflict(`service with name '${name}' already exists`);
    }
    const now = isoSeconds();
    const created: Service = {
      id: storeId(),
      name,
      type,
      comment,
      createdAt: now,
      updatedAt: now,
      versions: [newVersion(1, '', now)],
    };
    state.services.set(created.id, created);
    return created;
  });
  return json(200, serviceView(service));
}

/** A whole number query parameter from 1 to `max`, or `fallback` when absent. */
function wholeParam(query: URLSearchParams, name: string, fallback: number, max: number): number {
  const text = query.get(name);
  if (text === null || text === '') return fallback;
  if (!/^[0-9]{1,9}$/.test(text) || Number(text) < 1 || Number(text) > max) {
    throw badRequest(`Invalid ${name}: must be a whole number from 1 to ${max}`);
  }
  return Number(text);
}

/**
 * `GET /service?page=&per_page=&sort=&direction=`: a plain array, one page of it, with a `Link`
 * header naming the `next` and `last` pages the way go-fastly's paginator reads them.
 */
function list(ctx: RequestContext): Reply {
  const perPage = wholeParam(ctx.query, 'per_page', DEFAULT_PER_PAGE, MAX_PER_PAGE);
  const page = wholeParam(ctx.query, 'page', 1, Number.MAX_SAFE_INTEGER);
  const sort = ctx.query.get('sort') ?? 'created';
  if (!['created', 'created_at', 'name', 'updated', 'updated_at'].includes(sort)) {
    throw badRequest('Invalid sort', 'sort by created, name or updated');
  }
  const direction = ctx.query.get('direction') ?? 'ascend';
  if (direction !== 'ascend' && direction !== 'descend') {
    throw badRequest('Invalid direction', 'direction is ascend or descend');
  }
  const key = (s: Service): string =>
    sort === 'name' ? s.name : sort.startsWith('updated') ? s.updatedAt : s.createdAt;
  // Creation order breaks ties (timestamps are to the second), so pages never overlap.
  const services = [...ctx.db.state.services.values()]
    .map((s, i) => ({ s, i }))
    .sort((a, b) => (key(a.s) < key(b.s) ? -1 : key(a.s) > key(b.s) ? 1 : a.i - b.i))
    .map(({ s }) => s);
  if (direction === 'descend') services.reverse();
  const lastPage = Math.max(1, Math.ceil(services.length / perPage));
  const slice = services.slice((page - 1) * perPage, page * perPage);
  const link = (n: number): string => {
    const q = new URLSearchParams(ctx.query);
    q.set('page', String(n));
    q.set('per_page', String(perPage));
    return `</service?${q.toString()}>`;
  };
  const links = [`${link(lastPage)}; rel="last"`];
  if (page < lastPage) links.unshift(`${link(page + 1)}; rel="next"`);
  return { status: 200, json: slice.map(serviceListView), headers: { link: links.join(', ') } };
}

/** `GET /service/search?name=`: the service of that name, or 404 `Record not found`. */
function search(ctx: RequestContext): Reply {
  const name = ctx.query.get('name');
  if (name === null || name === '') throw badRequest('Missing required parameter: name');
  for (const s of ctx.db.state.services.values()) {
    if (s.name === name) return json(200, serviceView(s));
  }
  throw notFound();
}

function describe(ctx: RequestContext): Reply {
  return json(200, serviceView(serviceOr404(ctx.db.state, ctx.params['id'] ?? '')));
}

/**
 * `GET /service/{id}/details[?version=]`: the service plus `version` (the one asked for, else the
 * active one, else the latest, with its domains; backends and health checks are left empty) and
 * `active_version` (null when none is active).
 */
function details(ctx: RequestContext): Reply {
  const service = serviceOr404(ctx.db.state, ctx.params['id'] ?? '');
  const asked = ctx.query.get('version');
  const chosen =
    asked === null || asked === ''
      ? (activeVersion(service) ?? service.versions[service.versions.length - 1])
      : service.versions.find((v) => v.number === versionNumber(asked));
  if (chosen === undefined) throw notFound();
  const active = activeVersion(service);
  return json(200, {
    ...serviceView(service),
    version: {
      ...versionView(service.id, chosen),
      backends: [],
      domains: [...chosen.domains.values()].map((d) => domainView(service.id, chosen.number, d)),
      healthchecks: [],
    },
    active_version: active === undefined ? null : versionView(service.id, active),
  });
}

/** `PUT /service/{id}`, form `name` and/or `comment`. */
function update(ctx: RequestContext): Reply {
  const id = ctx.params['id'] ?? '';
  serviceOr404(ctx.db.state, id);
  const form = formBody(ctx.body);
  const name = form.get('name');
  if (name !== null) checkServiceName(name);
  const comment = form.get('comment');
  const service = ctx.db.mutate((state) => {
    const target = serviceOr404(state, id);
    if (name !== null) {
      for (const other of state.services.values()) {
        if (other.name === name && other.id !== id) {
          throw conflict(`service with name '${name}' already exists`);
        }
      }
      target.name = name;
    }
    if (comment !== null) target.comment = comment;
    target.updatedAt = isoSeconds();
    return target;
  });
  return json(200, serviceView(service));
}

/**
 * `DELETE /service/{id}`: `{"status":"ok"}`. Fastly refuses to delete a service with an active
 * version (deactivate it first); its exact message is unverified, the refusal is kept.
 */
function remove(ctx: RequestContext): Reply {
  const id = ctx.params['id'] ?? '';
  const service = serviceOr404(ctx.db.state, id);
  const active = activeVersion(service);
  if (active !== undefined) {
    throw badRequest(
      'Service has an active version',
      `deactivate version ${active.number} before deleting the service`,
    );
  }
  ctx.db.mutate((state) => state.services.delete(id));
  return json(200, { status: 'ok' });
}

function listVersions(ctx: RequestContext): Reply {
  const service = serviceOr404(ctx.db.state, ctx.params['id'] ?? '');
  return json(
    200,
    service.versions.map((v) => versionView(service.id, v)),
  );
}

function getVersion(ctx: RequestContext): Reply {
  const { service, version } = versionOr404(ctx.db.state, ctx.params);
  return json(200, versionView(service.id, version));
}

/** Runs `change` on the draft's copy of the addressed version and answers the changed version. */
function changeVersion(
  ctx: RequestContext,
  change: (service: Service, version: ServiceVersion, now: string) => ServiceVersion,
): Reply {
  versionOr404(ctx.db.state, ctx.params);
  const { serviceId, version } = ctx.db.mutate((state) => {
    const { service, version: target } = versionOr404(state, ctx.params);
    const now = isoSeconds();
    const changed = change(service, target, now);
    service.updatedAt = now;
    return { serviceId: service.id, version: changed };
  });
  return json(200, versionView(serviceId, version));
}

/** `PUT .../clone`: a new, unlocked version (number = highest + 1) with the same resource links. */
function clone(ctx: RequestContext): Reply {
  return changeVersion(ctx, (service, source, now) => {
    const highest = service.versions[service.versions.length - 1]?.number ?? 0;
    const copy = newVersion(highest + 1, source.comment, now);
    // Fastly keeps a link's id across clones (unverified); its contents are copied as they are.
    for (const [id, link] of source.resources) copy.resources.set(id, { ...link });
    for (const [name, backend] of source.backends) copy.backends.set(name, { ...backend });
    // The domains and the package go with the clone, as on Fastly: a clone serves what it came from.
    for (const [name, domain] of source.domains) copy.domains.set(name, { ...domain });
    copy.package = source.package
      ? { ...source.package, authors: [...source.package.authors] }
      : null;
    service.versions.push(copy);
    return copy;
  });
}

/** `PUT .../activate`: this version serves (and is locked); the previously active one stops. */
function activate(ctx: RequestContext): Reply {
  return changeVersion(ctx, (service, version, now) => {
    for (const other of service.versions) {
      if (other.active && other !== version) {
        other.active = false;
        other.updatedAt = now;
      }
    }
    version.active = true;
    version.locked = true;
    version.updatedAt = now;
    return version;
  });
}

/** `PUT .../deactivate`: the version stops serving and stays locked. */
function deactivate(ctx: RequestContext): Reply {
  return changeVersion(ctx, (_service, version, now) => {
    if (!version.active) {
      // Fastly's wording is unverified; deactivating what is not active is a caller's mistake.
      throw badRequest('Version not active', `version ${version.number} is not active`);
    }
    version.active = false;
    version.updatedAt = now;
    return version;
  });
}

/** `PUT .../lock`: the version can no longer be edited (already locked: unchanged). */
function lock(ctx: RequestContext): Reply {
  return changeVersion(ctx, (_service, version, now) => {
    if (!version.locked) {
      version.locked = true;
      version.updatedAt = now;
    }
    return version;
  });
}

/** `PUT /service/{id}/version/{n}`, form `comment`: edits an unlocked version's comment. */
function updateVersion(ctx: RequestContext): Reply {
  const comment = formField(formBody(ctx.body), 'comment');
  return changeVersion(ctx, (service, version, now) => {
    checkEditable(service, version);
    version.comment = comment;
    version.updatedAt = now;
    return version;
  });
}

/** Routes for services and versions (resource links are in resource-links.ts). */
export const serviceRoutes: Route[] = [
  { pattern: '/service', methods: { GET: list, POST: create } },
  // Listed before `/service/:id`, which would otherwise take `search` for an id.
  { pattern: '/service/search', methods: { GET: search } },
  { pattern: '/service/:id', methods: { GET: describe, PUT: update, DELETE: remove } },
  { pattern: '/service/:id/details', methods: { GET: details } },
  { pattern: '/service/:id/version', methods: { GET: listVersions } },
  { pattern: '/service/:id/version/:version', methods: { GET: getVersion, PUT: updateVersion } },
  { pattern: '/service/:id/version/:version/clone', methods: { PUT: clone } },
  { pattern: '/service/:id/version/:version/activate', methods: { PUT: activate } },
  { pattern: '/service/:id/version/:version/deactivate', methods: { PUT: deactivate } },
  { pattern: '/service/:id/version/:version/lock', methods: { PUT: lock } },
];
