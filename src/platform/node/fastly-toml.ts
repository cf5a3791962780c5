// Reads the `[local_server]` stores of fastly.toml (the formats Viceroy accepts) so the local
// Fastly API can be seeded with the same development data `fastly compute serve` would use.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse } from 'smol-toml';

/** The seed data for one run: config items and secrets, by store name. */
export interface LocalSeed {
  configStores: Map<string, Map<string, string>>;
  secretStores: Map<string, Map<string, string>>;
  kvStores: string[];
  /** Entries that could not be read (an unset env variable), for the start-up banner. */
  skipped: string[];
}

type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses fastly.toml's local stores; a malformed file or entry is an error naming it. */
export async function readLocalSeed(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LocalSeed> {
  const base = dirname(path);
  const doc = parse(await readFile(path, 'utf8'));
  const local = isTable(doc['local_server']) ? doc['local_server'] : {};
  const seed: LocalSeed = {
    configStores: new Map(),
    secretStores: new Map(),
    kvStores: [],
    skipped: [],
  };

  const configStores = isTable(local['config_stores']) ? local['config_stores'] : {};
  for (const [name, spec] of Object.entries(configStores)) {
    if (!isTable(spec))
      throw new Error(`${path}: local_server.config_stores.${name} must be a table`);
    seed.configStores.set(name, await configContents(spec, name, base, path));
  }

  const secretStores = isTable(local['secret_stores']) ? local['secret_stores'] : {};
  for (const [name, spec] of Object.entries(secretStores)) {
    const entries = new Map<string, string>();
    if (isTable(spec) && spec['format'] === 'json' && typeof spec['file'] === 'string') {
      for (const [k, v] of Object.entries(await jsonMap(resolve(base, spec['file']), path)))
        entries.set(k, v);
    } else if (Array.isArray(spec)) {
      for (const entry of spec) {
        if (!isTable(entry) || typeof entry['key'] !== 'string') {
          throw new Error(`${path}: every local_server.secret_stores.${name} entry needs a key`);
        }
        const value = await secretValue(entry, base, env);
        if (value === null)
          seed.skipped.push(`${name}/${entry['key']} (env ${String(entry['env'])} is not set)`);
        else entries.set(entry['key'], value);
      }
    } else {
      throw new Error(
        `${path}: local_server.secret_stores.${name} must be an array of entries or {file, format}`,
      );
    }
    seed.secretStores.set(name, entries);
  }

  const kvStores = isTable(local['kv_stores']) ? local['kv_stores'] : {};
  seed.kvStores = Object.keys(kvStores);
  return seed;
}

async function configContents(
  spec: Table,
  name: string,
  base: string,
  path: string,
): Promise<Map<string, string>> {
  if (spec['format'] === 'json' && typeof spec['file'] === 'string') {
    return new Map(Object.entries(await jsonMap(resolve(base, spec['file']), path)));
  }
  const contents = spec['contents'];
  if (!isTable(contents))
    throw new Error(`${path}: local_server.config_stores.${name} needs contents or a json file`);
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(contents)) {
    if (typeof v !== 'string')
      throw new Error(`${path}: config item ${name}.${k} must be a string`);
    out.set(k, v);
  }
  return out;
}

async function secretValue(
  entry: Table,
  base: string,
  env: NodeJS.ProcessEnv,
): Promise<string | null> {
  if (typeof entry['data'] === 'string') return entry['data'];
  if (typeof entry['file'] === 'string') return readFile(resolve(base, entry['file']), 'utf8');
  if (typeof entry['env'] === 'string') return env[entry['env']] ?? null;
  throw new Error(`secret entry ${String(entry['key'])} needs data, file or env`);
}

async function jsonMap(file: string, from: string): Promise<Record<string, string>> {
  const json: unknown = JSON.parse(await readFile(file, 'utf8'));
  if (!isTable(json) || !Object.values(json).every((v) => typeof v === 'string')) {
    throw new Error(`${file} (from ${from}) must be a flat JSON object of strings`);
  }
  return json as Record<string, string>;
}
