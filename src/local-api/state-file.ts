// The state file `<stateDir>/local-api-state.json`: how the in-memory state is written (binary
// values as base64) and read back. A file that does not parse is an error naming the file: the
// local keys live there, so silently starting empty would look like data loss.
import type {
  ConfigItem,
  ConfigStore,
  KvEntry,
  KvStore,
  Backend,
  Domain,
  PackageRecord,
  ResourceLink,
  ResourceType,
  Secret,
  SecretStore,
  Service,
  ServiceVersion,
  StateData,
} from './model.js';
import { emptyState, parseGeneration } from './model.js';

const FORMAT = 'local-fastly-api-state';
const VERSION = 1;

type Json = Record<string, unknown>;

/** The state as the JSON text stored on disk. */
export function serializeState(state: StateData): string {
  const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
  const doc = {
    format: FORMAT,
    version: VERSION,
    // Generations are written as decimal text: JSON numbers lose exactness past 2^53.
    kvGeneration: String(state.kvGeneration),
    configStores: [...state.configStores.values()].map((s) => ({
      id: s.id,
      name: s.name,
      created_at: s.createdAt,
      updated_at: s.updatedAt,
      items: [...s.items].map(([key, i]) => ({
        key,
        value: i.value,
        created_at: i.createdAt,
        updated_at: i.updatedAt,
      })),
    })),
    secretStores: [...state.secretStores.values()].map((s) => ({
      id: s.id,
      name: s.name,
      created_at: s.createdAt,
      digest_key: b64(s.digestKey),
      secrets: [...s.secrets].map(([name, x]) => ({
        name,
        secret: b64(x.plaintext),
        digest: x.digest,
        created_at: x.createdAt,
      })),
    })),
    kvStores: [...state.kvStores.values()].map((s) => ({
      id: s.id,
      name: s.name,
      created_at: s.createdAt,
      updated_at: s.updatedAt,
      keys: [...s.keys].map(([key, e]) => ({
        key,
        value: b64(e.value),
        metadata: e.metadata,
        generation: String(e.generation),
      })),
    })),
    // Added after version 1 was in use; files without it load with no services (parseState).
    services: [...state.services.values()].map((s) => ({
      id: s.id,
      name: s.name,
      type: s.type,
      comment: s.comment,
      created_at: s.createdAt,
      updated_at: s.updatedAt,
      versions: s.versions.map((v) => ({
        number: v.number,
        active: v.active,
        locked: v.locked,
        comment: v.comment,
        created_at: v.createdAt,
        updated_at: v.updatedAt,
        resources: [...v.resources.values()].map((l) => ({
          id: l.id,
          name: l.name,
          resource_id: l.resourceId,
          resource_type: l.resourceType,
          created_at: l.createdAt,
          updated_at: l.updatedAt,
        })),
        backends: [...v.backends.values()].map((b) => ({
          name: b.name,
          address: b.address,
          port: b.port,
          use_ssl: b.useSsl,
          ssl_cert_hostname: b.sslCertHostname,
          ssl_sni_hostname: b.sslSniHostname,
          override_host: b.overrideHost,
          created_at: b.createdAt,
          updated_at: b.updatedAt,
        })),
        domains: [...v.domains.values()].map((d) => ({
          name: d.name,
          comment: d.comment,
          created_at: d.createdAt,
          updated_at: d.updatedAt,
        })),
        package: v.package
          ? {
              id: v.package.id,
              name: v.package.name,
              description: v.package.description,
              authors: v.package.authors,
              language: v.package.language,
              size: v.package.size,
              hashsum: v.package.hashsum,
              files_hash: v.package.filesHash,
              created_at: v.package.createdAt,
              updated_at: v.package.updatedAt,
            }
          : null,
      })),
    })),
  };
  return JSON.stringify(doc, null, 2) + '\n';
}

/** Thrown while reading a state document; `path` says where in it (e.g. `configStores[0].id`). */
class ShapeError extends Error {}

function record(value: unknown, path: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ShapeError(`${path} is not an object`);
  }
  return value as Json;
}

function array(obj: Json, key: string, path: string): unknown[] {
  const value = obj[key];
  if (!Array.isArray(value)) throw new ShapeError(`${path}.${key} is not an array`);
  return value;
}

function str(obj: Json, key: string, path: string): string {
  const value = obj[key];
  if (typeof value !== 'string') throw new ShapeError(`${path}.${key} is not a string`);
  return value;
}

/** A generation: decimal text (numbers, as older files wrote them, are read if exact). */
function generation(obj: Json, key: string, path: string): bigint {
  const value = obj[key];
  const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
  const parsed = typeof text === 'string' ? parseGeneration(text) : undefined;
  if (parsed === undefined) throw new ShapeError(`${path}.${key} is not a KV generation`);
  return parsed;
}

function bytes(obj: Json, key: string, path: string): Uint8Array {
  const text = str(obj, key, path);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new ShapeError(`${path}.${key} is not base64`);
  }
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/** Adds `value` under `key`, refusing duplicates (they would silently shadow each other). */
function put<V>(map: Map<string, V>, key: string, value: V, path: string): void {
  if (map.has(key)) throw new ShapeError(`${path} repeats ${JSON.stringify(key)}`);
  map.set(key, value);
}

/** The fields config and KV stores share. */
function storeMeta(
  o: Json,
  path: string,
): { id: string; name: string; createdAt: string; updatedAt: string } {
  return {
    id: str(o, 'id', path),
    name: str(o, 'name', path),
    createdAt: str(o, 'created_at', path),
    updatedAt: str(o, 'updated_at', path),
  };
}

function readConfigStore(raw: unknown, path: string): ConfigStore {
  const o = record(raw, path);
  const items = new Map<string, ConfigItem>();
  array(o, 'items', path).forEach((rawItem, i) => {
    const p = `${path}.items[${i}]`;
    const it = record(rawItem, p);
    const item = { value: str(it, 'value', p), createdAt: str(it, 'created_at', p) };
    put(items, str(it, 'key', p), { ...item, updatedAt: str(it, 'updated_at', p) }, p);
  });
  return { ...storeMeta(o, path), items };
}

function readSecretStore(raw: unknown, path: string): SecretStore {
  const o = record(raw, path);
  const secrets = new Map<string, Secret>();
  array(o, 'secrets', path).forEach((rawSecret, i) => {
    const p = `${path}.secrets[${i}]`;
    const s = record(rawSecret, p);
    const secret = { plaintext: bytes(s, 'secret', p), digest: str(s, 'digest', p) };
    put(secrets, str(s, 'name', p), { ...secret, createdAt: str(s, 'created_at', p) }, p);
  });
  return {
    id: str(o, 'id', path),
    name: str(o, 'name', path),
    createdAt: str(o, 'created_at', path),
    digestKey: bytes(o, 'digest_key', path),
    secrets,
  };
}

function readKvStore(raw: unknown, path: string): KvStore {
  const o = record(raw, path);
  const keys = new Map<string, KvEntry>();
  array(o, 'keys', path).forEach((rawEntry, i) => {
    const p = `${path}.keys[${i}]`;
    const e = record(rawEntry, p);
    const entry = { value: bytes(e, 'value', p), metadata: str(e, 'metadata', p) };
    put(keys, str(e, 'key', p), { ...entry, generation: generation(e, 'generation', p) }, p);
  });
  return { ...storeMeta(o, path), keys };
}

function bool(obj: Json, key: string, path: string): boolean {
  const value = obj[key];
  if (typeof value !== 'boolean') throw new ShapeError(`${path}.${key} is not a boolean`);
  return value;
}

const RESOURCE_TYPES: readonly string[] = ['config', 'secret-store', 'object-store'];

function readLink(raw: unknown, path: string): ResourceLink {
  const o = record(raw, path);
  const type = str(o, 'resource_type', path);
  if (!RESOURCE_TYPES.includes(type)) throw new ShapeError(`${path}.resource_type is unknown`);
  return {
    id: str(o, 'id', path),
    name: str(o, 'name', path),
    resourceId: str(o, 'resource_id', path),
    resourceType: type as ResourceType,
    createdAt: str(o, 'created_at', path),
    updatedAt: str(o, 'updated_at', path),
  };
}

function nullableStr(obj: Json, key: string, path: string): string | null {
  return obj[key] === null ? null : str(obj, key, path);
}

function readBackend(raw: unknown, path: string): Backend {
  const o = record(raw, path);
  const port = o['port'];
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ShapeError(`${path}.port is not a port number`);
  }
  return {
    name: str(o, 'name', path),
    address: str(o, 'address', path),
    port,
    useSsl: bool(o, 'use_ssl', path),
    sslCertHostname: nullableStr(o, 'ssl_cert_hostname', path),
    sslSniHostname: nullableStr(o, 'ssl_sni_hostname', path),
    overrideHost: nullableStr(o, 'override_host', path),
    createdAt: str(o, 'created_at', path),
    updatedAt: str(o, 'updated_at', path),
  };
}

function readDomain(raw: unknown, path: string): Domain {
  const o = record(raw, path);
  return {
    name: str(o, 'name', path),
    comment: str(o, 'comment', path),
    createdAt: str(o, 'created_at', path),
    updatedAt: str(o, 'updated_at', path),
  };
}

function readPackage(raw: unknown, path: string): PackageRecord | null {
  if (raw === undefined || raw === null) return null;
  const o = record(raw, path);
  const size = o['size'];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new ShapeError(`${path}.size is not a byte count`);
  }
  const authors = array(o, 'authors', path).map((a, i) => {
    if (typeof a !== 'string') throw new ShapeError(`${path}.authors[${i}] is not a string`);
    return a;
  });
  return {
    id: str(o, 'id', path),
    name: str(o, 'name', path),
    description: str(o, 'description', path),
    authors,
    language: str(o, 'language', path),
    size,
    hashsum: str(o, 'hashsum', path),
    filesHash: str(o, 'files_hash', path),
    createdAt: str(o, 'created_at', path),
    updatedAt: str(o, 'updated_at', path),
  };
}

function readVersion(raw: unknown, path: string): ServiceVersion {
  const o = record(raw, path);
  const number = o['number'];
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 1) {
    throw new ShapeError(`${path}.number is not a version number`);
  }
  const resources = new Map<string, ResourceLink>();
  array(o, 'resources', path).forEach((rawLink, i) => {
    const link = readLink(rawLink, `${path}.resources[${i}]`);
    put(resources, link.id, link, `${path}.resources[${i}]`);
  });
  // Absent in state files written before backends were modelled: none.
  const backends = new Map<string, Backend>();
  (o['backends'] === undefined ? [] : array(o, 'backends', path)).forEach((rawBackend, i) => {
    const backend = readBackend(rawBackend, `${path}.backends[${i}]`);
    put(backends, backend.name, backend, `${path}.backends[${i}]`);
  });
  // Absent in state files written before domains and packages were modelled: none.
  const domains = new Map<string, Domain>();
  (o['domains'] === undefined ? [] : array(o, 'domains', path)).forEach((rawDomain, i) => {
    const domain = readDomain(rawDomain, `${path}.domains[${i}]`);
    put(domains, domain.name, domain, `${path}.domains[${i}]`);
  });
  const pkg = readPackage(o['package'], `${path}.package`);
  return {
    number,
    active: bool(o, 'active', path),
    locked: bool(o, 'locked', path),
    comment: str(o, 'comment', path),
    createdAt: str(o, 'created_at', path),
    updatedAt: str(o, 'updated_at', path),
    resources,
    backends,
    domains,
    package: pkg,
  };
}

function readService(raw: unknown, path: string): Service {
  const o = record(raw, path);
  const versions = array(o, 'versions', path).map((v, i) =>
    readVersion(v, `${path}.versions[${i}]`),
  );
  // Lookups and clones rely on ascending, distinct numbers.
  versions.forEach((v, i) => {
    const before = versions[i - 1];
    if (before !== undefined && before.number >= v.number) {
      throw new ShapeError(`${path}.versions are not in ascending order of number`);
    }
  });
  return {
    id: str(o, 'id', path),
    name: str(o, 'name', path),
    type: str(o, 'type', path),
    comment: str(o, 'comment', path),
    createdAt: str(o, 'created_at', path),
    updatedAt: str(o, 'updated_at', path),
    versions,
  };
}

/** Parses a state file's text; throws an Error naming `file` and the fault if it is corrupt. */
export function parseState(text: string, file: string): StateData {
  try {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new ShapeError(`it is not valid JSON (${(err as Error).message})`);
    }
    const doc = record(raw, 'the document');
    if (doc['format'] !== FORMAT || doc['version'] !== VERSION) {
      throw new ShapeError(`it is not a version ${VERSION} ${FORMAT} document`);
    }
    const state = emptyState();
    state.kvGeneration = generation(doc, 'kvGeneration', 'the document');
    array(doc, 'configStores', 'the document').forEach((s, i) => {
      const store = readConfigStore(s, `configStores[${i}]`);
      put(state.configStores, store.id, store, `configStores[${i}]`);
    });
    array(doc, 'secretStores', 'the document').forEach((s, i) => {
      const store = readSecretStore(s, `secretStores[${i}]`);
      put(state.secretStores, store.id, store, `secretStores[${i}]`);
    });
    array(doc, 'kvStores', 'the document').forEach((s, i) => {
      const store = readKvStore(s, `kvStores[${i}]`);
      put(state.kvStores, store.id, store, `kvStores[${i}]`);
    });
    // Absent from files written before services existed: they load with none.
    if (doc['services'] !== undefined) {
      array(doc, 'services', 'the document').forEach((s, i) => {
        const service = readService(s, `services[${i}]`);
        put(state.services, service.id, service, `services[${i}]`);
      });
    }
    return state;
  } catch (err) {
    if (!(err instanceof ShapeError)) throw err;
    throw new Error(
      `Local Fastly API state file ${file} is corrupt: ${err.message}. ` +
        'It was left untouched; repair it, or move it away to start with empty stores.',
    );
  }
}
