// Services, their versions, resource links and backends through the management API: what
// `tsctl setup` needs to find or create a Compute service, link the stores to it and give it the
// backend the app reaches the management API through. Creates and links travel
// form-encoded; answers are plain JSON objects or arrays (go-fastly's recorded responses).
import { ShapeError, asArray, asRecord, requestDecoded, requestOk, stringField } from './decode.js';
import type { Decoder } from './decode.js';
import { apiPath } from './http.js';
import type { Transport } from './http.js';

/** One version of a service. */
export interface ServiceVersion {
  number: number;
  active: boolean;
  locked: boolean;
}

/** A service with its versions, oldest first. */
export interface ServiceInfo {
  id: string;
  name: string;
  type: string;
  versions: ServiceVersion[];
}

/** A resource link: a store attached to a service version under the name the edge opens it by. */
export interface ResourceLink {
  id: string;
  name: string;
  resourceId: string;
}

const decodeVersion: Decoder<ServiceVersion> = (value) => {
  const v = asRecord(value, 'version');
  const number = v['number'];
  if (typeof number !== 'number') throw new ShapeError('field "number" is not a number');
  return { number, active: v['active'] === true, locked: v['locked'] === true };
};

const decodeService: Decoder<ServiceInfo> = (value) => {
  const s = asRecord(value, 'service');
  const versions = s['versions'] === undefined ? [] : asArray(s['versions'], 'versions');
  return {
    id: stringField(s, 'id'),
    name: stringField(s, 'name'),
    type: typeof s['type'] === 'string' ? s['type'] : '',
    versions: versions.map(decodeVersion).sort((a, b) => a.number - b.number),
  };
};

const decodeLink: Decoder<ResourceLink> = (value) => {
  const l = asRecord(value, 'resource link');
  return {
    id: stringField(l, 'id'),
    name: stringField(l, 'name'),
    resourceId: stringField(l, 'resource_id'),
  };
};

/** `GET /service/{id}`: the service, or null when no service has that id (404). */
export function getService(t: Transport, id: string): Promise<ServiceInfo | null> {
  const req = { method: 'GET', path: apiPath`/service/${id}`, expect: [404] } as const;
  return requestDecoded(t, req, decodeService).then((s) => s ?? null);
}

/** `GET /service/search?name=`: the service of that name, or null (404). */
export function findServiceByName(t: Transport, name: string): Promise<ServiceInfo | null> {
  const req = {
    method: 'GET',
    path: '/service/search',
    query: { name },
    expect: [404],
  } as const;
  return requestDecoded(t, req, decodeService).then((s) => s ?? null);
}

/** `POST /service` with form `name`, `type`: a new service and its version 1. */
export function createService(
  t: Transport,
  name: string,
  type: 'wasm' | 'vcl',
): Promise<ServiceInfo> {
  const req = { method: 'POST', path: '/service', body: { form: { name, type } } } as const;
  return requestOk(t, req, decodeService);
}

/** `PUT /service/{id}/version/{n}/clone`: a new editable version with the same links. */
export function cloneVersion(t: Transport, id: string, version: number): Promise<ServiceVersion> {
  const req = {
    method: 'PUT',
    path: apiPath`/service/${id}/version/${String(version)}/clone`,
    // Each call makes another version: a repeat is not the same as one call.
    idempotent: false,
  } as const;
  return requestOk(t, req, decodeVersion);
}

/** `PUT /service/{id}/version/{n}/activate`: that version serves. */
export function activateVersion(
  t: Transport,
  id: string,
  version: number,
): Promise<ServiceVersion> {
  const req = {
    method: 'PUT',
    path: apiPath`/service/${id}/version/${String(version)}/activate`,
  } as const;
  return requestOk(t, req, decodeVersion);
}

/** `GET /service/{id}/version/{n}/resource`: the version's resource links. */
export function listResourceLinks(
  t: Transport,
  id: string,
  version: number,
): Promise<ResourceLink[]> {
  const req = {
    method: 'GET',
    path: apiPath`/service/${id}/version/${String(version)}/resource`,
  } as const;
  return requestOk(t, req, (v) => asArray(v, 'answer').map(decodeLink));
}

/** `POST /service/{id}/version/{n}/resource` with form `resource_id`, `name`. */
export function createResourceLink(
  t: Transport,
  id: string,
  version: number,
  resourceId: string,
  name: string,
): Promise<ResourceLink> {
  const req = {
    method: 'POST',
    path: apiPath`/service/${id}/version/${String(version)}/resource`,
    body: { form: { resource_id: resourceId, name } },
  } as const;
  return requestOk(t, req, decodeLink);
}

/** A backend of a service version (the fields setup reads and sets). */
export interface BackendSpec {
  name: string;
  address: string;
  port: number;
  useSsl: boolean;
}

const decodeBackend: Decoder<BackendSpec> = (value) => {
  const b = asRecord(value, 'backend');
  const port = b['port'];
  if (typeof port !== 'number') throw new ShapeError('field "port" is not a number');
  return {
    name: stringField(b, 'name'),
    address: stringField(b, 'address'),
    port,
    useSsl: b['use_ssl'] === true,
  };
};

/** `GET /service/{id}/version/{n}/backend`: the version's backends. */
export function listBackends(t: Transport, id: string, version: number): Promise<BackendSpec[]> {
  const req = {
    method: 'GET',
    path: apiPath`/service/${id}/version/${String(version)}/backend`,
  } as const;
  return requestOk(t, req, (v) => asArray(v, 'answer').map(decodeBackend));
}

/**
 * `POST /service/{id}/version/{n}/backend`: a backend to `address`; with TLS, the certificate,
 * SNI and Host are the address too (what a backend to an HTTPS API needs).
 */
export function createBackend(
  t: Transport,
  id: string,
  version: number,
  spec: BackendSpec,
): Promise<BackendSpec> {
  const form: Record<string, string> = {
    name: spec.name,
    address: spec.address,
    port: String(spec.port),
    use_ssl: spec.useSsl ? '1' : '0',
    override_host: spec.address,
  };
  if (spec.useSsl) {
    form['ssl_cert_hostname'] = spec.address;
    form['ssl_sni_hostname'] = spec.address;
  }
  const req = {
    method: 'POST',
    path: apiPath`/service/${id}/version/${String(version)}/backend`,
    body: { form },
  } as const;
  return requestOk(t, req, decodeBackend);
}
