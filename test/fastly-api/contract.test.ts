// The client against the real local Fastly API on loopback: same paths, encodings and statuses
// as api.fastly.com, so these runs check both sides of the contract.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TskError } from '../../src/core/errors.js';
import type { ConfigItemOp } from '../../src/core/ports.js';
import { FastlyApi, keyStoreApi, leaseStoreApi } from '../../src/fastly-api/index.js';
import type { RetryOptions } from '../../src/fastly-api/index.js';
import { startLocalApi } from '../../src/local-api/index.js';
import type { LocalApi } from '../../src/local-api/index.js';
import { rejectionOf } from './fake-fetch.js';

let stateDir: string;
let local: LocalApi;
let api: FastlyApi;
/** The local API's client-key signing key, trusted on purpose (it is not Fastly's). */
let signingKey: string;

function client(token: string, timeoutMs = 5000, retry?: RetryOptions): FastlyApi {
  return new FastlyApi({
    endpoint: local.url,
    token,
    fetch: (r) => fetch(r),
    timeoutMs,
    secretSigningKey: signingKey,
    ...(retry ? { retry } : {}),
  });
}

function codeOf(err: unknown): string {
  expect(err).toBeInstanceOf(TskError);
  return (err as TskError).code;
}

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'tsk-fastly-api-'));
  local = await startLocalApi({ stateDir, port: 0 });
  signingKey = await new FastlyApi({
    endpoint: local.url,
    token: local.token,
    fetch: (r) => fetch(r),
    timeoutMs: 5000,
  }).getSecretSigningKey();
  api = client(local.token);
});

afterAll(async () => {
  await local?.close();
  await rm(stateDir, { recursive: true, force: true });
});

describe('contract with the local Fastly API', () => {
  it('creates config, secret and KV stores and finds them by name', async () => {
    const config = await api.createConfigStore('contract_config');
    const secrets = await api.createSecretStore('contract-secrets');
    const kv = await api.createKvStore('contract_kv');
    await expect(api.listConfigStores('contract_config')).resolves.toEqual([config]);
    await expect(api.listSecretStores('contract-secrets')).resolves.toEqual([secrets]);
    expect(await api.listKvStores()).toContainEqual(kv);
    expect(local.state.findConfigStore('contract_config')).toEqual(config);
    expect(local.state.findSecretStore('contract-secrets')).toEqual(secrets);
    expect(local.state.findKvStore('contract_kv')).toEqual(kv);
  });

  it('upserts, reads, lists and deletes config items, special characters intact', async () => {
    const { id } = await api.createConfigStore('items_crud');
    const key = 'a/b c%2F';
    const value = 'x&y=z+1 %20\n{"kty":"OKP","x":"é"}';
    await api.upsertConfigItem(id, key, value);
    await expect(api.getConfigItem(id, key)).resolves.toBe(value);
    expect(local.state.configItem(id, key)).toBe(value);
    await api.upsertConfigItem(id, key, 'second');
    await expect(api.listConfigItems(id)).resolves.toEqual([{ key, value: 'second' }]);
    await expect(api.deleteConfigItem(id, key)).resolves.toBe(true);
    await expect(api.deleteConfigItem(id, key)).resolves.toBe(false);
    await expect(api.getConfigItem(id, key)).resolves.toBeNull();
  });

  it('applies a bulk update in order, and refuses 1,001 operations before sending', async () => {
    const { id } = await api.createConfigStore('items_bulk');
    await api.upsertConfigItem(id, 'old', 'gone soon');
    await api.upsertConfigItem(id, 'current-kid', 'k1');
    const ops: ConfigItemOp[] = [
      { op: 'create', key: 'k2', value: '{"kty":"OKP","kid":"k2"}' },
      { op: 'upsert', key: 'active-kids', value: 'k1,k2' },
      { op: 'update', key: 'current-kid', value: 'k2' },
      { op: 'delete', key: 'old' },
    ];
    await keyStoreApi(api, { configStoreId: id, secretStoreId: 'unused' }).patchConfigItems(ops);
    const items = await keyStoreApi(api, {
      configStoreId: id,
      secretStoreId: 'unused',
    }).readConfigItems();
    expect(items).toEqual(
      new Map([
        ['active-kids', 'k1,k2'],
        ['current-kid', 'k2'],
        ['k2', '{"kty":"OKP","kid":"k2"}'],
      ]),
    );
    const before = local.state.requestLog.length;
    const tooMany: ConfigItemOp[] = Array.from({ length: 1001 }, (_, i) => ({
      op: 'delete',
      key: `k${i}`,
    }));
    expect(codeOf(await rejectionOf(api.bulkUpdateConfigItems(id, tooMany)))).toBe(
      'invalid_request',
    );
    expect(local.state.requestLog.length).toBe(before);
  });

  it('creates secrets, refuses an existing name with secret_exists, recreates and deletes', async () => {
    const { id } = await api.createSecretStore('secrets-crud');
    const seed = 'nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=';
    const created = await api.putSecret(id, 'kid-1', seed, 'create');
    expect(created).toMatchObject({ name: 'kid-1', recreated: false });
    expect(new TextDecoder().decode(local.state.secretPlaintext(id, 'kid-1') ?? undefined)).toBe(
      seed,
    );
    const err = await rejectionOf(api.putSecret(id, 'kid-1', 'other', 'create'));
    expect(codeOf(err)).toBe('secret_exists');
    expect(new TextDecoder().decode(local.state.secretPlaintext(id, 'kid-1') ?? undefined)).toBe(
      seed,
    );
    await expect(api.putSecret(id, 'kid-1', 'v2', 'upsert')).resolves.toMatchObject({
      recreated: true,
    });
    await expect(
      api.putSecret(id, 'kid-1', new Uint8Array([0, 255]), 'recreate'),
    ).resolves.toMatchObject({ name: 'kid-1' });
    expect(local.state.secretPlaintext(id, 'kid-1')).toEqual(new Uint8Array([0, 255]));
    expect(codeOf(await rejectionOf(api.putSecret(id, 'kid-2', 'x', 'recreate')))).toBe(
      'upstream_failed',
    );
    await expect(api.deleteSecret(id, 'kid-1')).resolves.toBe(true);
    await expect(api.deleteSecret(id, 'kid-1')).resolves.toBe(false);
    expect(local.state.secretPlaintext(id, 'kid-1')).toBeNull();
  });

  it('lists more than 200 secrets by following the cursor', async () => {
    const { id } = await api.createSecretStore('secrets-many');
    const names = Array.from({ length: 205 }, (_, i) => `kid-${String(i).padStart(3, '0')}`);
    for (const name of names) await api.putSecret(id, name, `seed-${name}`, 'create');
    const port = keyStoreApi(api, { configStoreId: 'unused', secretStoreId: id });
    expect((await port.listSecretNames()).sort()).toEqual(names);
    const listed = await api.listSecrets(id);
    expect(listed.every((s) => s.digest.length > 0 && s.created_at.length > 0)).toBe(true);
  });

  it('gives KV add, replace and remove their generation semantics', async () => {
    const { id } = await api.createKvStore('leases');
    const lease = leaseStoreApi(api, id);
    await expect(lease.add('default', 'holder-a')).resolves.toBe(true);
    await expect(lease.add('default', 'holder-b')).resolves.toBe(false);
    const first = (await lease.get('default'))?.generation ?? 'absent';
    await expect(lease.get('default')).resolves.toEqual({ value: 'holder-a', generation: first });
    expect(first).toMatch(/^[0-9]{16,20}$/);
    await expect(lease.replace('default', 'holder-c', first)).resolves.toBe(true);
    const second = (await lease.get('default'))?.generation ?? 'absent';
    expect(BigInt(second) > BigInt(first)).toBe(true);
    await expect(lease.replace('default', 'holder-d', first)).resolves.toBe(false);
    await expect(lease.remove('default', first)).resolves.toBe(false);
    await expect(lease.get('default')).resolves.toEqual({ value: 'holder-c', generation: second });
    await expect(lease.remove('default', second)).resolves.toBe(true);
    await expect(lease.get('default')).resolves.toBeNull();
    await expect(lease.remove('default', second)).resolves.toBe(false);
    await expect(lease.replace('default', 'holder-e', second)).resolves.toBe(false);
    await expect(api.kvDelete(id, 'never-there')).resolves.toBe(false);
  });

  it('answers upstream_failed 401 to a wrong token, naming neither token', async () => {
    const wrong = 'wrong-token-0123456789abcdef';
    const err = await rejectionOf(client(wrong).listConfigStores());
    expect(codeOf(err)).toBe('upstream_failed');
    const tsk = err as TskError;
    expect(tsk.details).toMatchObject({ status: 401, method: 'GET' });
    expect(tsk.message).toContain('rejected the API token (401)');
    const shown = `${tsk.message} ${JSON.stringify(tsk.details)}`;
    expect(shown).not.toContain(wrong);
    expect(shown).not.toContain(local.token);
  });

  it('reports an injected 503 on the bulk update as upstream_failed with status 503', async () => {
    const { id } = await api.createConfigStore('items_fault');
    const disarm = local.state.injectFault({ path: /items$/, status: 503, times: Infinity });
    const err = await rejectionOf(
      api.bulkUpdateConfigItems(id, [{ op: 'upsert', key: 'a', value: 'b' }]),
    );
    disarm();
    expect(codeOf(err)).toBe('upstream_failed');
    expect((err as TskError).details).toMatchObject({
      status: 503,
      method: 'PATCH',
      path: `/resources/stores/config/${id}/items`,
    });
    expect((err as TskError).message).toMatch(/^Fastly API answered 503 to PATCH /);
    await expect(api.getConfigItem(id, 'a')).resolves.toBeNull();
  });

  it('reports an injected 429 as upstream_rate_limited', async () => {
    const { id } = await api.createConfigStore('items_rate');
    local.state.injectFault({ path: /\/item\//, status: 429 });
    const err = await rejectionOf(api.upsertConfigItem(id, 'a', 'b'));
    expect(codeOf(err)).toBe('upstream_rate_limited');
    expect((err as TskError).details).toMatchObject({ status: 429, method: 'PUT' });
  });

  it('gives up with upstream_timeout when the API stalls past the bound', async () => {
    const { id } = await api.createConfigStore('items_slow');
    const disarm = local.state.injectFault({ path: /items$/, delayMs: 1500, times: Infinity });
    const started = performance.now();
    const retry = { maxTotalMs: 350, baseDelayMs: 10 };
    const err = await rejectionOf(client(local.token, 100, retry).listConfigItems(id));
    disarm();
    expect(codeOf(err)).toBe('upstream_timeout');
    expect((err as TskError).details).toMatchObject({ outcome: 'unknown', failure: 'timeout' });
    // Retries stop at the budget: never past it by more than one attempt's timer.
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('retries a read that met a 503 transparently', async () => {
    const { id } = await api.createConfigStore('items_retry');
    const quick = client(local.token, 5000, { baseDelayMs: 1 });
    local.state.injectFault({ method: 'GET', path: /items$/, status: 503 });
    await expect(quick.listConfigItems(id)).resolves.toEqual([]);
    const reads = local.state.requestLog.filter((r) => r.path.endsWith(`${id}/items`));
    expect(reads.map((r) => r.status)).toEqual([503, 200]);
  });

  it('does not wait for a rate-limit reset beyond its budget: one attempt, the 429 reported', async () => {
    // The local API's 429 names the next hour in Fastly-RateLimit-Reset, far past any budget.
    const before = local.state.requestLog.length;
    local.state.injectFault({ method: 'POST', path: /\/resources\/stores\/config$/, status: 429 });
    const err = await rejectionOf(client(local.token).createConfigStore('after_429'));
    expect(codeOf(err)).toBe('upstream_rate_limited');
    expect((err as TskError).details).toMatchObject({ outcome: 'refused' });
    expect(local.state.requestLog.length - before).toBe(1);
  });
});
