// `fastlyDeployments`, the management backend both platforms build their Services from: the API
// token is read from the `api-keys` secret store on every open (never cached), a missing one is
// 503 not_configured before any call, and an undeclared deployment is refused before the token
// is even read.
import { describe, expect, it } from 'vitest';
import { TskError } from '../../src/core/errors.js';
import { parseSettings } from '../../src/core/settings.js';
import { fastlyDeployments } from '../../src/fastly-api/index.js';

const SETTINGS = parseSettings({
  publisher: { domain: 'publisher.example' },
  request_signing: {
    config_store_id: 'cfg-1',
    secret_store_id: 'sec-1',
    lock_store_id: 'kv-1',
  },
});

function backend(token: { value: string | null }, now: () => number = () => Date.now()) {
  const sent: Request[] = [];
  const secretReads: string[] = [];
  const deployments = fastlyDeployments({
    settings: SETTINGS,
    // The client bounds its attempts by the real time; the deadline is the lease's end from now.
    clock: { now },
    random: { bytes: (n) => new Uint8Array(n) },
    secretStore: (store) => ({
      async get(key) {
        secretReads.push(`${store}/${key}`);
        return token.value;
      },
    }),
    fetch: async (request) => {
      sent.push(request);
      return Response.json({ data: [], meta: {} });
    },
  });
  return { deployments, sent, secretReads };
}

const WHO = { holder: 'ops1', requestId: 'r1' };

describe('fastlyDeployments', () => {
  it('reads the token at every open and sends it as Fastly-Key', async () => {
    const token = { value: ' first-token \n' as string | null };
    const { deployments, sent, secretReads } = backend(token);
    await (await deployments.open({ name: 'default', ...WHO })).engine.read().catch(() => {});
    token.value = 'second-token';
    await (await deployments.open({ name: 'default', ...WHO })).engine.read().catch(() => {});
    expect(secretReads).toEqual(['api-keys/api_key', 'api-keys/api_key']);
    // A read starts with the config items, sent with the token (this fake's answer is not a
    // list of items, so it stops there: the secret names are read only when a reading needs them).
    expect(sent.map((r) => r.headers.get('fastly-key'))).toEqual(['first-token', 'second-token']);
    expect(sent.map((r) => r.url)).toEqual([
      'https://api.fastly.com/resources/stores/config/cfg-1/items',
      'https://api.fastly.com/resources/stores/config/cfg-1/items',
    ]);
  });

  it.each([null, '', '  \n'])('refuses a missing token (%j) with not_configured', async (value) => {
    const { deployments, sent } = backend({ value });
    const err = await deployments.open({ name: 'default', ...WHO }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TskError);
    expect(err).toMatchObject({
      code: 'not_configured',
      message:
        'the Fastly API token is missing: store it as "api_key" in the "api-keys" secret store',
    });
    expect(sent).toEqual([]);
  });

  it('gives the client the lease end as its retry deadline: no call once it has passed', async () => {
    const leaseMs = SETTINGS.fastly_api.lease_ms;
    const late = backend({ value: 'tok' }, () => Date.now() - leaseMs - 1000);
    const read = (await late.deployments.open({ name: 'default', ...WHO })).engine.read();
    await expect(read).rejects.toBeInstanceOf(TskError);
    expect(late.sent).toEqual([]);
    const inTime = backend({ value: 'tok' }, () => Date.now() - leaseMs + 60_000);
    await (
      await inTime.deployments.open({ name: 'default', ...WHO })
    ).engine
      .read()
      .catch(() => {});
    expect(inTime.sent).toHaveLength(1); // the config items
  });

  it('refuses an undeclared deployment before reading the token', async () => {
    const { deployments, secretReads } = backend({ value: 'tok' });
    await expect(deployments.open({ name: 'staging', ...WHO })).rejects.toMatchObject({
      code: 'deployment_not_found',
    });
    expect(secretReads).toEqual([]);
  });
});
