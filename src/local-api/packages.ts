// Compute packages: `PUT /service/{id}/version/{n}/package` (multipart, field `package`: the
// .tar.gz `fastly compute pack` makes) and `GET` of the same path. Only what Fastly answers about
// a package is kept, not its bytes: the metadata of the `fastly.toml` inside it, its size, the
// SHA-512 of the upload (`hashsum`) and of its files' contents in name order (`files_hash`, which
// `fastly compute publish` compares to skip an unchanged package). Shapes follow go-fastly's
// recorded responses (fastly/fixtures/package): 200 with `{service_id, version, id, metadata,
// created_at, updated_at, deleted_at}`; an archive without a readable manifest is 400 `Bad
// request` / `Failed to extract metadata from package`. GET before any upload is 404 `Record not
// found`; a locked (or active) version refuses an upload with 422 `Version locked`.
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { parse } from 'smol-toml';
import type { ApiError } from './errors.js';
import { badRequest, notFound } from './errors.js';
import type { PackageRecord } from './model.js';
import { isoSeconds, storeId } from './model.js';
import type { Reply, RequestContext, Route } from './router.js';
import { json } from './router.js';
import { checkEditable, versionOr404 } from './services.js';

/** Largest package upload (Fastly documents 100 MB as its Compute package limit). */
export const MAX_PACKAGE_BYTES = 100 * 1024 * 1024;

/** The package route, for the server's body limit. */
export const PACKAGE_PATH = /^\/service\/[^/]+\/version\/[^/]+\/package$/;

/** The package as Fastly serializes it. */
function view(serviceId: string, version: number, p: PackageRecord): Record<string, unknown> {
  return {
    service_id: serviceId,
    version,
    id: p.id,
    metadata: {
      name: p.name,
      description: p.description,
      authors: p.authors,
      language: p.language,
      size: p.size,
      hashsum: p.hashsum,
      files_hash: p.filesHash,
    },
    created_at: p.createdAt,
    updated_at: p.updatedAt,
    deleted_at: null,
  };
}

function describe(ctx: RequestContext): Reply {
  const { service, version } = versionOr404(ctx.db.state, ctx.params);
  if (version.package === null) throw notFound();
  return json(200, view(service.id, version.number, version.package));
}

const extractFailed = (detail: string): ApiError =>
  badRequest('Bad request', `Failed to extract metadata from package: ${detail}`);

/** `PUT`: multipart/form-data with the archive in the field `package`. */
function upload(ctx: RequestContext): Reply {
  const type = ctx.headers['content-type'] ?? '';
  const boundary = /^multipart\/form-data;.*\bboundary="?([^";]+)"?/i.exec(type)?.[1];
  if (boundary === undefined) {
    throw badRequest('Expected a multipart/form-data body with the package in the field "package"');
  }
  const archive = multipartField(ctx.body, boundary, 'package');
  if (archive === undefined) throw badRequest('Missing required field: package');
  const files = readPackage(archive);
  const manifestName = [...files.keys()].find((n) => /^[^/]+\/fastly\.toml$/.test(n));
  if (manifestName === undefined) throw extractFailed('no fastly.toml in the archive');
  if (![...files.keys()].some((n) => /^[^/]+\/bin\/main\.wasm$/.test(n))) {
    throw extractFailed('no bin/main.wasm in the archive');
  }
  let manifest: Record<string, unknown>;
  try {
    manifest = parse(new TextDecoder().decode(files.get(manifestName)));
  } catch (err) {
    throw extractFailed(`fastly.toml: ${(err as Error).message}`);
  }
  const text = (key: string): string => {
    const value = manifest[key];
    return typeof value === 'string' ? value : '';
  };
  const authors = Array.isArray(manifest['authors'])
    ? manifest['authors'].filter((a): a is string => typeof a === 'string')
    : [];
  const filesHash = createHash('sha512');
  for (const name of [...files.keys()].sort()) filesHash.update(files.get(name)!);
  const result = ctx.db.mutate((state) => {
    const { service, version } = versionOr404(state, ctx.params);
    checkEditable(service, version);
    const now = isoSeconds();
    const record: PackageRecord = {
      id: storeId(),
      name: text('name'),
      description: text('description'),
      authors,
      language: text('language'),
      size: archive.length,
      hashsum: createHash('sha512').update(archive).digest('hex'),
      filesHash: filesHash.digest('hex'),
      createdAt: version.package?.createdAt ?? now,
      updatedAt: now,
    };
    version.package = record;
    version.updatedAt = now;
    return { serviceId: service.id, version: version.number, record };
  });
  return json(200, view(result.serviceId, result.version, result.record));
}

/** The bytes of the form field `name` of a multipart body, or undefined when absent. */
function multipartField(body: Buffer, boundary: string, name: string): Buffer | undefined {
  const delimiter = Buffer.from(`--${boundary}`);
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') return undefined;
    const headerEnd = body.indexOf('\r\n\r\n', start);
    if (headerEnd < 0) return undefined;
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`), headerEnd + 4);
    if (next < 0) return undefined;
    const headers = body.subarray(start, headerEnd).toString('utf8');
    const disposition = /content-disposition:[^\r\n]*\bname="([^"]*)"/i.exec(headers);
    if (disposition?.[1] === name) return body.subarray(headerEnd + 4, next);
    at = next + 2;
  }
  return undefined;
}

/**
 * The regular files of a .tar.gz by path (directories, links and the like left out, as the
 * Fastly CLI's files hash leaves out directories). Understands ustar names with a prefix, and
 * GNU (`L`) and pax (`x`) long names. Anything unreadable is the recorded 400.
 */
function readPackage(archive: Buffer): Map<string, Buffer> {
  let tar: Buffer;
  try {
    tar = gunzipSync(archive);
  } catch {
    throw extractFailed('not a gzip archive');
  }
  const files = new Map<string, Buffer>();
  const cstring = (b: Buffer): string => {
    const end = b.indexOf(0);
    return b.subarray(0, end < 0 ? b.length : end).toString('utf8');
  };
  let offset = 0;
  let longName: string | undefined;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const size = parseInt(cstring(header.subarray(124, 136)).trim() || '0', 8);
    if (!Number.isSafeInteger(size) || size < 0 || offset + 512 + size > tar.length) {
      throw extractFailed('a truncated or malformed tar entry');
    }
    const data = tar.subarray(offset + 512, offset + 512 + size);
    const type = String.fromCharCode(header[156] ?? 0);
    const prefix = cstring(header.subarray(345, 500));
    const name = longName ?? (prefix ? `${prefix}/` : '') + cstring(header.subarray(0, 100));
    longName = undefined;
    if (type === 'L') longName = cstring(data);
    else if (type === 'x')
      longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'))?.[1];
    else if (type === '0' || type === '\0') files.set(name.replace(/^\.\//, ''), data);
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  if (files.size === 0) throw extractFailed('no files in the archive');
  return files;
}

/** Routes for packages. */
export const packageRoutes: Route[] = [
  { pattern: '/service/:id/version/:version/package', methods: { GET: describe, PUT: upload } },
];
