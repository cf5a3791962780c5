#!/usr/bin/env node
// Finds or creates the five stores this service uses, with the Fastly CLI, and prints their ids
// as the lines of trusted-server.toml that name them: the first step of deploying by hand
// (`tsctl setup` does this and the rest through the management API). Idempotent: a store that
// exists (every Trusted Server user has jwks_store and signing_keys) is found by name, never
// created twice, so re-running changes nothing. `--dry-run` only looks.
//
//   node scripts/ensure-stores.mjs [--dry-run]
//
// The Fastly CLI reads FASTLY_API_TOKEN (and FASTLY_API_ENDPOINT, to rehearse against the local
// Fastly API of `npm start`). The CLI is this package's own `@fastly/cli`, else `fastly` on PATH.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import process from 'node:process';
import { URL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The most secret stores one listing shows (Fastly's page limit). */
const SECRET_STORE_PAGE = 200;

/**
 * The stores, the CLI command group of each, and the settings key its id goes in: the table
 * `tsctl setup` uses too (src/cli/setup-stores.json), so the two never disagree.
 */
const STORES = JSON.parse(
  await readFile(new URL('../src/cli/setup-stores.json', import.meta.url), 'utf8'),
).stores;

async function fastlyBinary() {
  try {
    return (await import('@fastly/cli')).default;
  } catch {
    return 'fastly';
  }
}

/** The id of the object named `name` anywhere in a CLI listing (its JSON shapes differ by kind). */
export function findId(listing, name) {
  if (Array.isArray(listing)) {
    for (const item of listing) {
      const id = findId(item, name);
      if (id) return id;
    }
    return undefined;
  }
  if (listing === null || typeof listing !== 'object') return undefined;
  const own = listing.name ?? listing.Name;
  const id = listing.id ?? listing.ID ?? listing.StoreID;
  if (own === name && typeof id === 'string') return id;
  for (const value of Object.values(listing)) {
    const found = findId(value, name);
    if (found) return found;
  }
  return undefined;
}

async function main() {
  const dryRun = process.argv.includes('--dry-run');
  const unknown = process.argv.slice(2).filter((a) => a !== '--dry-run');
  if (unknown.length > 0) {
    process.stderr.write(
      `usage: node scripts/ensure-stores.mjs [--dry-run] (unknown: ${unknown.join(' ')})\n`,
    );
    process.exit(2);
  }
  const cli = await fastlyBinary();
  const fastly = async (...args) => {
    try {
      const { stdout } = await run(cli, args, { env: process.env, timeout: 60_000 });
      return stdout;
    } catch (err) {
      const detail = String(err.stderr || err.message)
        .trim()
        .split('\n')
        .slice(-3)
        .join(' ');
      throw new Error(`fastly ${args.join(' ')} failed: ${detail}`);
    }
  };
  const ids = new Map();
  for (const store of STORES) {
    // Secret stores come in pages; with --json the CLI prints one page and no cursor.
    const page = store.kind === 'secret-store' ? [`--limit=${SECRET_STORE_PAGE}`] : [];
    const listing = JSON.parse((await fastly(store.kind, 'list', '--json', ...page)) || '[]');
    let id = findId(listing, store.name);
    if (!id && Array.isArray(listing) && listing.length >= SECRET_STORE_PAGE) {
      throw new Error(
        `more than ${SECRET_STORE_PAGE} secret stores: cannot tell whether ${store.name} exists, so none was created; find its id with \`fastly secret-store list --cursor\``,
      );
    }
    if (id) {
      process.stdout.write(`found    ${store.kind} ${store.name}: ${id}\n`);
    } else if (dryRun) {
      process.stdout.write(`missing  ${store.kind} ${store.name}: would create it\n`);
    } else {
      id = findId(
        JSON.parse(await fastly(store.kind, 'create', `--name=${store.name}`, '--json')),
        store.name,
      );
      if (!id) throw new Error(`fastly ${store.kind} create --name=${store.name} answered no id`);
      process.stdout.write(`created  ${store.kind} ${store.name}: ${id}\n`);
    }
    if (id) ids.set(store.name, id);
  }
  const lines = STORES.filter((s) => s.setting).map(
    (s) => `${s.setting} = "${ids.get(s.name) ?? `REPLACE_WITH_${s.name.toUpperCase()}_ID`}"`,
  );
  process.stdout.write(`\nIn trusted-server.toml, [request_signing]:\n${lines.join('\n')}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    process.stderr.write(`ensure-stores: ${err.message}\n`);
    process.exit(1);
  });
}
