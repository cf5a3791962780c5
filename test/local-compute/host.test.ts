// The Compute host with tiny hand-assembled guests: a response, a trap, no response, a spin past
// the CPU limit, an unsupported hostcall; and the host's pure helpers.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rewriteStoreIds, storeIdMap } from '../../src/local-compute/compute-edge.js';
import { MemoryErl } from '../../src/local-compute/erl.js';
import { ipOctets } from '../../src/local-compute/guest.js';
import { ComputeHost, type HostLimits } from '../../src/local-compute/host.js';
import { parseHostArgs, UsageError } from '../../src/local-compute/main.js';
import type { DownstreamRequest } from '../../src/local-compute/protocol.js';
import { parseSettings } from '../../src/core/settings.js';
import { op, respondingModule, tinyModule } from './tiny-wasm.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsk-host-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const hosts: ComputeHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.close()));
});

const request: DownstreamRequest = {
  method: 'GET',
  uri: 'http://localhost/',
  headers: [],
  body: new Uint8Array(),
  clientIp: '127.0.0.1',
  serverIp: '127.0.0.1',
  requestId: '0123456789abcdef0123456789abcdef',
};

async function hostFor(
  bytes: Uint8Array,
  limits?: Partial<HostLimits>,
  config: Record<string, Record<string, string>> = {},
) {
  const path = join(dir, `guest-${hosts.length}-${Date.now()}.wasm`);
  await writeFile(path, bytes);
  const events: Array<{ event: string; fields: Record<string, unknown> }> = [];
  const host = await ComputeHost.start({
    wasmPath: path,
    workers: { min: 1, max: 1 },
    ...(limits ? { limits } : {}),
    resources: {
      configStore: (name) => {
        const items = config[name];
        return items ? { get: (key) => items[key] ?? null } : undefined;
      },
      secretStore: () => undefined,
      kvStoreExists: () => false,
      backend: () => undefined,
    },
    output: {
      stdout: () => undefined,
      log: () => undefined,
      host: (event, fields) => void events.push({ event, fields }),
    },
  });
  hosts.push(host);
  const serve = async () => {
    const out = { status: 0, body: '', failed: undefined as string | undefined };
    const chunks: Uint8Array[] = [];
    const timings = await host.serve(request, {
      head: (status) => void (out.status = status),
      chunk: (b) => void chunks.push(b),
      end: () => undefined,
      fail: (status, reason) => {
        out.status = status;
        out.failed = reason;
      },
    });
    out.body = Buffer.concat(chunks).toString('utf8');
    return { ...out, timings };
  };
  return { host, events, serve };
}

describe('the Compute host', () => {
  it('runs _start per request and streams the response the guest sends', async () => {
    const { serve } = await hostFor(respondingModule(201, 'hello from wasm'));
    for (let i = 0; i < 2; i++) {
      const res = await serve();
      expect(res).toMatchObject({ status: 201, body: 'hello from wasm', failed: undefined });
      expect(res.timings?.instantiateMs).toBeGreaterThanOrEqual(0);
    }
  });

  it('answers 500 with a log line when the guest traps, and keeps serving', async () => {
    const { serve, events } = await hostFor(tinyModule({ body: op.unreachable }));
    for (let i = 0; i < 2; i++) {
      const res = await serve();
      expect(res.status).toBe(500);
      expect(res.failed).toMatch(/^guest trapped: /);
    }
    expect(events.filter((e) => e.event === 'request_failed')).toHaveLength(2);
  });

  it('answers 500 when the guest finishes without a response', async () => {
    const { serve, events } = await hostFor(tinyModule({ body: [] }));
    const res = await serve();
    expect(res).toMatchObject({ status: 500, failed: 'guest finished without sending a response' });
    expect(events[0]?.fields['reason']).toBe('guest finished without sending a response');
  });

  it('kills a guest past the CPU limit with a 500, then serves the next request on a new thread', async () => {
    const { serve, events } = await hostFor(tinyModule({ body: op.loopForever }), { cpuMs: 200 });
    for (let i = 0; i < 2; i++) {
      const res = await serve();
      expect(res).toMatchObject({ status: 500, failed: 'CPU limit of 200 ms exceeded' });
    }
    expect(events.filter((e) => e.event === 'guest_killed')).toHaveLength(2);
  });

  it('kills a guest past the wall-clock limit', async () => {
    const { serve } = await hostFor(tinyModule({ body: op.loopForever }), { wallMs: 300 });
    expect((await serve()).failed).toBe('wall-clock limit of 300 ms exceeded');
  });

  it('answers hostcalls it does not implement with `unsupported` (5), logged once each', async () => {
    // The guest answers 200 + the status fastly_geo::lookup returned.
    const { serve, events } = await hostFor(
      respondingModule(200, 'geo', {
        imports: [{ module: 'fastly_geo', name: 'lookup', params: 5 }],
        statusFromCall: [
          ...op.i32(0),
          ...op.i32(0),
          ...op.i32(0),
          ...op.i32(0),
          ...op.i32(0),
          ...op.call(5),
        ],
      }),
    );
    expect((await serve()).status).toBe(205);
    expect((await serve()).status).toBe(205);
    expect(events.filter((e) => e.event === 'hostcall_unsupported')).toEqual([
      { event: 'hostcall_unsupported', fields: { hostcall: 'fastly_geo::lookup' } },
    ]);
  });

  describe('store hostcalls, as Viceroy answers them', () => {
    // Each guest answers 200 + a status or a length. Its response text doubles as the data: the
    // names it passes to the hostcalls are read from it ("cfg" at 64, "key" at 67, "nope" at 70).
    const open = (name: [number, number], out = 16) => [
      ...op.i32(name[0]),
      ...op.i32(name[1]),
      ...op.i32(out),
      ...op.call(5),
    ];
    const get = (max: number) => [
      ...op.load(16),
      ...op.i32(67),
      ...op.i32(3),
      ...op.i32(128),
      ...op.i32(max),
      ...op.i32(20),
      ...op.call(6),
    ];
    const storeGuest = (expr: number[], module = 'fastly_config_store') =>
      respondingModule(200, 'cfgkeynope', {
        imports: [
          { module, name: 'open', params: 3 },
          { module: 'fastly_config_store', name: 'get', params: 6 },
        ],
        statusFromCall: expr,
      });
    const config = { cfg: { key: 'value-123' } };

    it('an unknown config store is badf (3), an unknown secret store none (10)', async () => {
      expect((await (await hostFor(storeGuest(open([70, 4])), {}, config)).serve()).status).toBe(
        203,
      );
      const secret = await hostFor(storeGuest(open([70, 4]), 'fastly_secret_store'), {}, config);
      expect((await secret.serve()).status).toBe(210);
    });

    it('a value larger than the buffer is buflen (4) with the size needed in nwritten', async () => {
      const status = await hostFor(
        storeGuest([...open([64, 3]), ...op.drop, ...get(2)]),
        {},
        config,
      );
      expect((await status.serve()).status).toBe(204);
      const needed = await hostFor(
        storeGuest([...open([64, 3]), ...op.drop, ...get(2), ...op.drop, ...op.load(20)]),
        {},
        config,
      );
      expect((await needed.serve()).status).toBe(200 + 'value-123'.length);
    });

    it('a value that fits is ok (0); a missing key is none (10)', async () => {
      const fits = await hostFor(
        storeGuest([...open([64, 3]), ...op.drop, ...get(64)]),
        {},
        config,
      );
      expect((await fits.serve()).status).toBe(200);
      const missing = await hostFor(
        storeGuest([...open([64, 3]), ...op.drop, ...get(64)]),
        {},
        { cfg: {} },
      );
      expect((await missing.serve()).status).toBe(210);
    });
  });

  it('refuses a module that is not a Compute program', async () => {
    const path = join(dir, 'not-compute.wasm');
    await writeFile(path, Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    await expect(
      ComputeHost.start({
        wasmPath: path,
        resources: {
          configStore: () => undefined,
          secretStore: () => undefined,
          kvStoreExists: () => false,
          backend: () => undefined,
        },
        output: { stdout: () => undefined, log: () => undefined, host: () => undefined },
      }),
    ).rejects.toThrow(/does not export _start: not a Compute module/);
  });
});

describe('Viceroy arguments', () => {
  it('accepts what `fastly compute serve --viceroy-path` passes', () => {
    expect(
      parseHostArgs(['-v', '-C', '/p/fastly.toml', '--addr', '127.0.0.1:7676', 'bin/main.wasm']),
    ).toEqual({
      wasm: 'bin/main.wasm',
      manifest: '/p/fastly.toml',
      addr: { host: '127.0.0.1', port: 7676 },
      verbose: true,
      buildIfStale: false,
      ignored: [],
    });
    expect(parseHostArgs(['--addr=[::1]:8080', '--profile-guest']).addr).toEqual({
      host: '::1',
      port: 8080,
    });
    expect(parseHostArgs(['--profile-guest']).ignored).toEqual(['--profile-guest']);
  });

  it('refuses a bad address, a missing value and a second wasm path', () => {
    expect(() => parseHostArgs(['--addr', 'localhost'])).toThrow(UsageError);
    expect(() => parseHostArgs(['--addr', 'h:70000'])).toThrow(/HOST:PORT/);
    expect(() => parseHostArgs(['-C'])).toThrow(/-C needs a value/);
    expect(() => parseHostArgs(['a.wasm', 'b.wasm'])).toThrow(/unexpected argument "b.wasm"/);
  });
});

describe('host helpers', () => {
  it('maps the built-in store ids to the local API ones in management-API paths only', () => {
    const settings = parseSettings({
      publisher: { domain: 'publisher.example' },
      request_signing: {
        config_store_id: 'CFG_PLACEHOLDER',
        secret_store_id: 'SEC_PLACEHOLDER',
        lock_store_id: 'KV_PLACEHOLDER',
      },
    });
    const ids = storeIdMap(settings, {
      jwksStoreId: 'cfg1',
      signingKeysStoreId: 'sec1',
      apiKeysStoreId: 'sec2',
      adminTokensStoreId: 'sec3',
      locksStoreId: 'kv1',
      configIds: new Map(),
      secretIds: new Map(),
      created: [],
    });
    const req = {
      backend: 'fastly_api',
      method: 'PATCH',
      uri: 'https://api.fastly.com/resources/stores/config/CFG_PLACEHOLDER/items?x=CFG_PLACEHOLDER',
      headers: [],
      body: new Uint8Array(),
    };
    expect(rewriteStoreIds(req, 'fastly_api', ids).uri).toBe(
      'https://api.fastly.com/resources/stores/config/cfg1/items?x=CFG_PLACEHOLDER',
    );
    expect(rewriteStoreIds({ ...req, backend: 'other' }, 'fastly_api', ids)).toEqual({
      ...req,
      backend: 'other',
    });
  });

  it('encodes client addresses as Compute does (4 or 16 octets)', () => {
    expect([...(ipOctets('192.0.2.7') ?? [])]).toEqual([192, 0, 2, 7]);
    expect([...(ipOctets('::ffff:127.0.0.1') ?? [])]).toEqual([127, 0, 0, 1]);
    expect(ipOctets('2001:db8::1')).toEqual(
      Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
    );
    expect(ipOctets('not an ip')).toBeNull();
    expect(ipOctets('300.1.1.1')).toBeNull();
  });

  it('counts rate-counter increments in a sliding window and expires penalty boxes', () => {
    let now = 1_000_000;
    const erl = new MemoryErl(() => now);
    erl.increment('c', 'ip', 3);
    now += 30_000;
    erl.increment('c', 'ip', 2);
    expect(erl.count('c', 'ip', 60)).toBe(5);
    expect(erl.count('c', 'ip', 10)).toBe(2);
    expect(erl.count('c', 'other', 60)).toBe(0);
    erl.penalize('box', 'ip', 119); // truncated to one minute
    expect(erl.penalized('box', 'ip')).toBe(true);
    now += 60_001;
    expect(erl.penalized('box', 'ip')).toBe(false);
    erl.penalize('box', 'ip', 5); // at least one minute
    now += 59_000;
    expect(erl.penalized('box', 'ip')).toBe(true);
  });
});
