// Shared set-up for the local API suites: a server on an ephemeral port in a fresh temp dir, and
// a small request helper that speaks Fastly's encodings (form, JSON, raw bytes).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { startLocalApi } from '../../src/local-api/index.js';
import type { LocalApi } from '../../src/local-api/index.js';

/** A temp dir removed after the current test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'local-api-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const cleanups: (() => void | Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Starts a local API on an ephemeral port; closed after the current test. */
export async function startApi(stateDir = tempDir()): Promise<LocalApi> {
  const api = await startLocalApi({ stateDir, port: 0 });
  cleanups.push(() => api.close());
  return api;
}

/** What to send: a form, a JSON document, or raw bytes; and extra headers. */
export interface CallOptions {
  form?: Record<string, string>;
  json?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  /** `null` sends no `Fastly-Key`; a string sends that instead of the API's token. */
  token?: string | null;
}

/** A decoded answer. */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON (undefined when it is empty or not JSON). */
  body: unknown;
}

/** Sends one request to the API. */
export async function call(
  api: LocalApi,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? api.token : options.token;
  if (token !== null) headers['Fastly-Key'] = token;
  let body: string | undefined;
  if (options.form !== undefined) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  } else if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.raw !== undefined) {
    body = options.raw;
  }
  const res = await fetch(api.url + path, { method, headers, body: body ?? null });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, text, body: parsed };
}

/** Creates a config store and returns its id. */
export async function configStore(api: LocalApi, name = 'jwks_store'): Promise<string> {
  const res = await call(api, 'POST', '/resources/stores/config', { form: { name } });
  return (res.body as { id: string }).id;
}

/** Creates a secret store and returns its id. */
export async function secretStore(api: LocalApi, name = 'signing_keys'): Promise<string> {
  const res = await call(api, 'POST', '/resources/stores/secret', { json: { name } });
  return (res.body as { id: string }).id;
}

/** Creates a KV store and returns its id. */
export async function kvStore(api: LocalApi, name = 'keyring_locks'): Promise<string> {
  const res = await call(api, 'POST', '/resources/stores/kv', { json: { name } });
  return (res.body as { id: string }).id;
}

/** Standard base64 of UTF-8 text, as the `secret` field carries it. */
export const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
