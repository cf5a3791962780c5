// Domains and Compute packages of a service version in the local Fastly API: go-fastly's recorded
// shapes (fastly/fixtures/domains, fastly/fixtures/package), 404 before an upload, 422 on a locked
// version, the recorded 400 for an archive without a manifest, both cloned with the version and
// kept across a restart; a state file from before they existed still loads.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { LocalApi } from '../../src/local-api/index.js';
import { call, startApi, tempDir } from './helpers.js';

const run = promisify(execFile);

/** A .tar.gz as `fastly compute pack` lays it out: `<name>/fastly.toml`, `<name>/bin/main.wasm`. */
async function packageFile(files: Record<string, string>): Promise<Buffer> {
  const dir = tempDir();
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, 'pkg', path, '..'), { recursive: true });
    writeFileSync(join(dir, 'pkg', path), text);
  }
  await run('tar', ['-czf', join(dir, 'p.tar.gz'), '-C', join(dir, 'pkg'), '.']);
  return readFileSync(join(dir, 'p.tar.gz'));
}

const MANIFEST =
  'manifest_version = 3\nname = "demo"\ndescription = "d"\nauthors = ["a@b.c"]\nlanguage = "javascript"\n';

async function upload(api: LocalApi, path: string, bytes: Buffer) {
  const form = new FormData();
  form.append('package', new Blob([new Uint8Array(bytes)]), 'package.tar.gz');
  const res = await fetch(`${api.url}${path}`, {
    method: 'PUT',
    headers: { 'fastly-key': api.token },
    body: form,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function service(api: LocalApi): Promise<string> {
  const made = await call(api, 'POST', '/service', { form: { name: 'svc', type: 'wasm' } });
  return (made.body as { id: string }).id;
}

describe('local API: domains', () => {
  it('creates, lists, gets and deletes per version, in the recorded shapes; refuses bad names and duplicates', async () => {
    const api = await startApi();
    const id = await service(api);
    const base = `/service/${id}/version/1/domain`;
    expect((await call(api, 'GET', base)).body).toEqual([]);
    const made = await call(api, 'POST', base, {
      form: { name: 'Keys.Example.COM', comment: 'c' },
    });
    expect(made.status).toBe(200);
    expect(made.body).toEqual({
      name: 'keys.example.com',
      comment: 'c',
      service_id: id,
      version: 1,
      created_at: expect.any(String),
      updated_at: expect.any(String),
      deleted_at: null,
    });
    expect((await call(api, 'GET', `${base}/keys.example.com`)).body).toEqual(made.body);
    expect((await call(api, 'GET', base)).body).toEqual([made.body]);
    expect((await call(api, 'GET', `${base}/other.example.com`)).status).toBe(404);
    const again = await call(api, 'POST', base, { form: { name: 'keys.example.com' } });
    expect(again.status).toBe(409);
    for (const bad of ['', 'no-dot', 'https://x.com', 'a..b.com']) {
      const refused = await call(api, 'POST', base, { form: { name: bad } });
      expect(refused.status, bad).toBe(400);
    }
    // Another service may not take it.
    const other = (
      (await call(api, 'POST', '/service', { form: { name: 'other', type: 'wasm' } })).body as {
        id: string;
      }
    ).id;
    const taken = await call(api, 'POST', `/service/${other}/version/1/domain`, {
      form: { name: 'keys.example.com' },
    });
    expect(taken.status).toBe(409);
    expect((await call(api, 'DELETE', `${base}/keys.example.com`)).body).toEqual({ status: 'ok' });
    expect((await call(api, 'GET', base)).body).toEqual([]);
  });

  it('a locked version refuses domain changes (422); a clone carries its domains', async () => {
    const api = await startApi();
    const id = await service(api);
    await call(api, 'POST', `/service/${id}/version/1/domain`, { form: { name: 'a.example.com' } });
    await call(api, 'PUT', `/service/${id}/version/1/activate`);
    const locked = await call(api, 'POST', `/service/${id}/version/1/domain`, {
      form: { name: 'b.example.com' },
    });
    expect(locked.status).toBe(422);
    expect(
      (await call(api, 'DELETE', `/service/${id}/version/1/domain/a.example.com`)).status,
    ).toBe(422);
    await call(api, 'PUT', `/service/${id}/version/1/clone`);
    const cloned = (await call(api, 'GET', `/service/${id}/version/2/domain`)).body as Array<{
      name: string;
      version: number;
    }>;
    expect(cloned.map((d) => [d.name, d.version])).toEqual([['a.example.com', 2]]);
    const details = (await call(api, 'GET', `/service/${id}/details?version=2`)).body as {
      version: { domains: Array<{ name: string }> };
    };
    expect(details.version.domains.map((d) => d.name)).toEqual(['a.example.com']);
  });
});

describe('local API: packages', () => {
  it('404 before an upload; the upload answers the recorded shape with its hashes; a locked version refuses (422)', async () => {
    const api = await startApi();
    const id = await service(api);
    const path = `/service/${id}/version/1/package`;
    expect((await call(api, 'GET', path)).status).toBe(404);
    const bytes = await packageFile({ 'demo/fastly.toml': MANIFEST, 'demo/bin/main.wasm': 'WASM' });
    const put = await upload(api, path, bytes);
    expect(put.status).toBe(200);
    // The Fastly CLI's files hash: SHA-512 over the files' contents in name order.
    const filesHash = createHash('sha512').update('WASM').update(MANIFEST).digest('hex');
    expect(put.body).toEqual({
      service_id: id,
      version: 1,
      id: expect.stringMatching(/^[A-Za-z0-9]{22}$/),
      metadata: {
        name: 'demo',
        description: 'd',
        authors: ['a@b.c'],
        language: 'javascript',
        size: bytes.length,
        hashsum: createHash('sha512').update(bytes).digest('hex'),
        files_hash: filesHash,
      },
      created_at: expect.any(String),
      updated_at: expect.any(String),
      deleted_at: null,
    });
    expect((await call(api, 'GET', path)).body).toEqual(put.body);

    await call(api, 'PUT', `/service/${id}/version/1/activate`);
    const locked = await upload(api, path, bytes);
    expect(locked.status).toBe(422);
    expect(locked.body).toMatchObject({ msg: 'Version locked' });
    // A clone has the package it came from.
    await call(api, 'PUT', `/service/${id}/version/1/clone`);
    const cloned = (await call(api, 'GET', `/service/${id}/version/2/package`)).body as {
      version: number;
      metadata: { files_hash: string };
    };
    expect(cloned.version).toBe(2);
    expect(cloned.metadata.files_hash).toBe(filesHash);
  });

  it('refuses what is not a package with the recorded 400, and a body with no package field', async () => {
    const api = await startApi();
    const id = await service(api);
    const path = `/service/${id}/version/1/package`;
    const noManifest = await upload(api, path, await packageFile({ 'demo/bin/main.wasm': 'W' }));
    expect(noManifest.status).toBe(400);
    expect(noManifest.body).toMatchObject({ msg: 'Bad request' });
    expect(String(noManifest.body['detail'])).toContain('Failed to extract metadata from package');
    const notGzip = await upload(api, path, Buffer.from('not an archive'));
    expect(notGzip.status).toBe(400);
    const form = await call(api, 'PUT', path, { form: { package: 'x' } });
    expect(form.status).toBe(400);
    expect((await call(api, 'GET', path)).status).toBe(404);
  });

  it('keeps domains and packages across a restart; a state file without them still loads', async () => {
    const dir = tempDir();
    const first = await startApi(dir);
    const id = await service(first);
    await call(first, 'POST', `/service/${id}/version/1/domain`, {
      form: { name: 'a.example.com' },
    });
    const bytes = await packageFile({ 'demo/fastly.toml': MANIFEST, 'demo/bin/main.wasm': 'WASM' });
    const put = await upload(first, `/service/${id}/version/1/package`, bytes);
    await first.close();
    const second = await startApi(dir);
    expect((await call(second, 'GET', `/service/${id}/version/1/package`)).body).toEqual(put.body);
    expect(
      ((await call(second, 'GET', `/service/${id}/version/1/domain`)).body as unknown[]).length,
    ).toBe(1);
    await second.close();
    // The same file as written before domains and packages were modelled.
    const file = join(dir, 'local-api-state.json');
    const doc = JSON.parse(readFileSync(file, 'utf8')) as {
      services: Array<{ versions: Array<Record<string, unknown>> }>;
    };
    for (const v of doc.services[0]!.versions) {
      delete v['domains'];
      delete v['package'];
    }
    writeFileSync(file, JSON.stringify(doc));
    const third = await startApi(dir);
    expect((await call(third, 'GET', `/service/${id}/version/1/domain`)).body).toEqual([]);
    expect((await call(third, 'GET', `/service/${id}/version/1/package`)).status).toBe(404);
  });
});
