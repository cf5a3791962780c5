// The rotation schedule over the real HTTP routes (test/support/app.ts), with the clock moved by
// the test: a simulated year of daily runs and three years with a gap of missed runs, checking the
// issue's properties after every run; then the race with an operator, the activation dwell, the
// capped Cache-Control, the status report and the verification log line.
import { describe, expect, it } from 'vitest';
import { STORE_NAMES } from '../../src/core/deployments.js';
import { DOCUMENT_ITEM_KEYS } from '../../src/core/keyring/key-documents.js';
import {
  addAdminToken,
  DEV_KEY,
  memoryServices,
  testApp,
  withDevKey,
  type AppRequestInit,
  type MemoryServices,
} from '../support/app.js';

const DAY = 86_400_000;
const BASE = '/admin/deployments/default';
/** Defaults: 2 × max-age 60 s + the 120 s propagation bound. */
const DWELL_MS = 240_000;
/** remove_after_days: no key goes while a signature it made this recently may be presented. */
const GRACE_MS = 30 * DAY;

interface Keyset {
  id: string;
  state: string;
  issued_at: string;
  expires_at: string;
  activated_at?: string;
  superseded_at?: string;
}
interface Keyring {
  version: number;
  keysets: Keyset[];
}
interface Step {
  operation: string;
  keyset: string | null;
  at: string;
  reason: string;
  due?: boolean;
}
interface RunBody {
  applied: Array<Step & { keyset: string; version_before: number; version_after: number }>;
  keyring_version: number;
  plan: Step[];
}

async function world(settings?: Record<string, unknown>) {
  const services = memoryServices(withDevKey(settings ? { settings } : {}));
  const token = await addAdminToken(services, 'ops1', 'ops1-secret-0123456789abcdef', 'operator');
  const app = testApp(services);
  async function send<T>(path: string, init: AppRequestInit = {}) {
    const res = await app.request(path, { token, ...init });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      body: (text === '' ? undefined : JSON.parse(text)) as T,
    };
  }
  const run = () => send<RunBody>(`${BASE}/schedule/run`, { method: 'POST' });
  const keyring = async () => (await send<Keyring>(`${BASE}/keysets`)).body;
  return { services, app, send, run, keyring };
}

/** Everything the simulation observes from outside, and the properties it checks as it goes. */
class Observer {
  readonly firstPublished = new Map<string, number>();
  readonly firstSigned = new Map<string, number>();
  readonly removedAt = new Map<string, number>();
  readonly signatures: Array<{ kid: string; at: number; payload: string; signature: string }> = [];
  readonly bodyOfEtag = new Map<string, string>();
  /** Keys that signed without the schedule: the one active at the start, an operator's rotate. */
  readonly exempt = new Set<string>();
  applied: Record<string, number> = { prepare: 0, activate: 0, taint: 0, remove: 0 };
  runs = 0;
  verifications = 0;
  jwksChanges = 0;
  private lastBody = '';

  constructor(
    private readonly w: Awaited<ReturnType<typeof world>>,
    activeAtStart: string,
  ) {
    this.exempt.add(activeAtStart);
  }

  /** One schedule run, then every check. */
  async runAndCheck(): Promise<RunBody> {
    const { w } = this;
    const now = w.services.now;
    const ran = await w.run();
    expect(ran.status).toBe(200);
    this.runs += 1;
    for (const step of ran.body.applied) this.applied[step.operation]! += 1;
    // Idempotent: a second run at the same moment has nothing left to do.
    const again = await w.run();
    expect(again.body.applied).toEqual([]);

    const keyring = await w.keyring();
    const active = keyring.keysets.filter((k) => k.state === 'ACTIVE');
    expect(active).toHaveLength(1);
    const signer = active[0]!.id;
    if (!this.firstSigned.has(signer)) this.firstSigned.set(signer, now);

    // The JWKS: a body is only ever served under one ETag, and a new body under a new one.
    const jwks = await w.app.request('/.well-known/jwks.json');
    const etag = jwks.headers.get('etag') ?? '';
    const body = await jwks.text();
    const seen = this.bodyOfEtag.get(etag);
    if (seen !== undefined) expect(body).toBe(seen);
    this.bodyOfEtag.set(etag, body);
    if (body !== this.lastBody) this.jwksChanges += 1;
    this.lastBody = body;
    // Its max-age never reaches past the next scheduled transition.
    const plan = (await w.send<{ plan: Step[] }>(`${BASE}/schedule`)).body.plan;
    const maxAge = Number(/max-age=(\d+)/.exec(jwks.headers.get('cache-control') ?? '')?.[1]);
    const next = plan[0] ? Date.parse(plan[0].at) : Infinity;
    expect(maxAge).toBe(Math.min(60, Math.max(0, Math.floor((next - now) / 1000))));

    const published = new Set(
      (JSON.parse(body) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid),
    );
    for (const kid of published)
      if (!this.firstPublished.has(kid)) this.firstPublished.set(kid, now);
    for (const kid of this.firstPublished.keys()) {
      if (published.has(kid) || this.removedAt.has(kid)) continue;
      this.removedAt.set(kid, now);
      // No key goes while a signature it made within the grace period could still be presented.
      const last = Math.max(...this.signatures.filter((s) => s.kid === kid).map((s) => s.at));
      expect(
        now - last,
        `${kid} removed ${(now - last) / DAY} days after its last signature`,
      ).toBeGreaterThanOrEqual(GRACE_MS);
    }
    // Every key signs only after it has been published for the dwell.
    for (const [kid, signed] of this.firstSigned) {
      if (this.exempt.has(kid)) continue;
      expect(signed - (this.firstPublished.get(kid) ?? Infinity)).toBeGreaterThanOrEqual(DWELL_MS);
    }

    // Today's signature, and the oldest one still inside the grace period, both verify.
    const signed = await w.send<{ payload: string; signature: string; kid: string }>(
      '/admin/keys/sign',
      { json: { id: `day-${this.runs}` } },
    );
    expect(signed.body.kid).toBe(signer);
    this.signatures.push({ ...signed.body, at: now });
    const oldest = this.signatures.find((s) => now - s.at < GRACE_MS);
    for (const s of new Set([oldest!, this.signatures.at(-1)!])) {
      const verified = await w.app.request('/verify-signature', {
        json: { payload: s.payload, signature: s.signature, kid: s.kid },
      });
      expect(await verified.json()).toMatchObject({ verified: true });
      this.verifications += 1;
    }
    return ran.body;
  }
}

describe('the schedule over a simulated year of daily runs', () => {
  it('keeps one ACTIVE key, publishes each the dwell before it signs, removes none inside the grace period, never undoes an operator', async () => {
    const w = await world();
    const start = w.services.now;
    const o = new Observer(w, DEV_KEY.kid);
    let operatorKid = '';
    let rotatedAt = 0;
    for (let day = 0; day < 365; day++) {
      w.services.now = start + day * DAY;
      await o.runAndCheck();
      if (day === 150) {
        // An operator rotates by hand (Trusted Server's rotate: publish and sign at once).
        const rotated = await w.send<{ new_kid: string }>('/admin/keys/rotate', {
          json: { kid: 'operator-2027' },
        });
        expect(rotated.status).toBe(200);
        operatorKid = rotated.body.new_kid;
        o.exempt.add(operatorKid);
        rotatedAt = w.services.now;
        // The key it replaced was the schedule's; the schedule never brings it back.
      }
      if (day === 151) {
        const keyring = await w.keyring();
        expect(keyring.keysets.find((k) => k.state === 'ACTIVE')?.id).toBe(operatorKid);
      }
    }
    // After the operator's rotate, every key the schedule activated was prepared after it.
    for (const [kid, signed] of o.firstSigned) {
      if (signed > rotatedAt && kid !== operatorKid) {
        expect(o.firstPublished.get(kid)).toBeGreaterThan(rotatedAt);
      }
    }
    // The audit trail has one line per transition the schedule applied, actor `schedule`.
    const scheduled = w.services.audits.filter((a) => a.actor === 'schedule');
    const total = Object.values(o.applied).reduce((a, b) => a + b, 0);
    expect(scheduled).toHaveLength(total);
    expect(scheduled.every((a) => a.status === 200 && a.keyring_version_after !== null)).toBe(true);
    // The figures (docs/schedule.md): pinned, so a change of policy shows here.
    expect({
      runs: o.runs,
      applied: o.applied,
      keys_signed: o.firstSigned.size,
      keys_removed: o.removedAt.size,
      jwks_changes: o.jwksChanges,
      verifications: o.verifications,
    }).toMatchInlineSnapshot(`
      {
        "applied": {
          "activate": 6,
          "prepare": 6,
          "remove": 6,
          "taint": 6,
        },
        "jwks_changes": 12,
        "keys_removed": 6,
        "keys_signed": 8,
        "runs": 365,
        "verifications": 729,
      }
    `);
  });
});

describe('the schedule over three years with missed runs', () => {
  it('catches up after a three-year gap in two runs, without thrashing, and stays healthy after', async () => {
    const w = await world();
    const start = w.services.now;
    const o = new Observer(w, DEV_KEY.kid);
    for (let day = 0; day < 100; day++) {
      w.services.now = start + day * DAY;
      await o.runAndCheck();
    }
    // Nobody runs the schedule for three years.
    w.services.now = start + (100 + 3 * 365) * DAY;
    const status = await w.send<{ healthy: boolean; problems: Array<{ code: string }> }>(
      `${BASE}/status`,
    );
    expect(status.body.healthy).toBe(false);
    expect(status.body.problems.map((p) => p.code)).toEqual(
      expect.arrayContaining(['active_key_expired', 'no_successor', 'schedule_overdue']),
    );
    const first = await o.runAndCheck();
    // Retired keys go, a successor is prepared; it does not sign before the dwell.
    expect(first.applied.map((s) => s.operation)).toContain('prepare');
    expect(first.applied.map((s) => s.operation)).not.toContain('activate');
    // Each overdue transition once, in order; nothing undone, nothing repeated.
    expect(first.applied.map((s) => `${s.operation} ${s.keyset}`)).toMatchInlineSnapshot(`
      [
        "taint ts-2026-11-22",
        "prepare ts-2030-03-01",
      ]
    `);
    w.services.now += DAY;
    const second = await o.runAndCheck();
    expect(second.applied.map((s) => s.operation)).toEqual(['activate']);
    const healthy = await w.send<{ healthy: boolean; problems: unknown[] }>(`${BASE}/status`);
    expect(healthy.body).toMatchObject({ healthy: true, problems: [] });
    // Then daily runs for the rest of the third year's cycle: the plain rhythm again.
    const after = { ...o.applied };
    const resumed = w.services.now;
    for (let day = 1; day <= 200; day++) {
      w.services.now = resumed + day * DAY;
      await o.runAndCheck();
    }
    expect({
      first_100_days_and_catch_up: after,
      total: o.applied,
      runs: o.runs,
      keys_signed: o.firstSigned.size,
    }).toMatchInlineSnapshot(`
      {
        "first_100_days_and_catch_up": {
          "activate": 3,
          "prepare": 3,
          "remove": 1,
          "taint": 2,
        },
        "keys_signed": 6,
        "runs": 302,
        "total": {
          "activate": 5,
          "prepare": 6,
          "remove": 4,
          "taint": 5,
        },
      }
    `);
  });
});

describe('the schedule and an operator', () => {
  it('stops with a conflict and writes nothing when the operator changes the keyring between plan and commit', async () => {
    const w = await world();
    // Start from a stored keyring whose successor is due.
    expect((await w.run()).body.applied.map((s) => s.operation)).toEqual(['prepare']);
    w.services.now += DAY;
    const store = w.services.keyStores.get('default')!;
    const read = store.readConfigItems.bind(store);
    let armed = true;
    store.readConfigItems = async () => {
      const snapshot = await read();
      if (armed) {
        // The schedule has read; before it commits, an operator prepares a key of their own.
        armed = false;
        const mine = await w.send(`${BASE}/keysets`, { json: { kid: 'operator-pick' } });
        expect(mine.status).toBe(201);
      }
      return snapshot;
    };
    const before = new Map(w.services.config.get(STORE_NAMES.jwks));
    const raced = await w.run();
    expect(raced.status).toBe(412);
    expect(raced.body).toMatchObject({ code: 'keyring_version_mismatch', applied: [] });
    // Nothing of the schedule's landed: the only change is the operator's.
    const after = w.services.config.get(STORE_NAMES.jwks)!;
    const keyring = JSON.parse(after.get('keyring')!) as Keyring;
    expect(keyring.version).toBe(JSON.parse(before.get('keyring')!).version + 1);
    expect(keyring.keysets.map((k) => [k.id, k.state])).toContainEqual([
      'operator-pick',
      'PREPARED',
    ]);
    expect(w.services.audits.filter((a) => a.actor === 'schedule')).toHaveLength(1);
    // The next run plans against the operator's keyring and keeps their key.
    const next = await w.run();
    expect(next.status).toBe(200);
    expect((await w.keyring()).keysets.some((k) => k.id === 'operator-pick')).toBe(true);
  });

  it('refuses to activate a key published less than the dwell ago, tells when, and marks a forced one', async () => {
    const w = await world();
    const prepared = await w.send<{ keyset: { id: string } }>(`${BASE}/keysets`, {
      json: { kid: 'next-1' },
    });
    expect(prepared.status).toBe(201);
    w.services.now += 60_000;
    const early = await w.send<Record<string, unknown>>(`${BASE}/keysets/next-1/activate`, {
      method: 'POST',
    });
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({
      code: 'activation_too_early',
      keyset: 'next-1',
      allowed_at: new Date(w.services.now - 60_000 + DWELL_MS).toISOString(),
      dwell_seconds: 240,
    });
    expect(early.headers.get('retry-after')).toBe('180');
    expect(w.services.audits.at(-1)).toMatchObject({ outcome: 'refused', operation: 'activate' });
    expect(w.services.audits.at(-1)).not.toHaveProperty('forced');

    const forced = await w.send(`${BASE}/keysets/next-1/activate`, { json: { force: true } });
    expect(forced.status).toBe(200);
    expect(w.services.audits.at(-1)).toMatchObject({ outcome: 'allowed', forced: true });

    // Rolling back to the key that signed a moment ago is no risk: partners have it.
    const back = await w.send(`${BASE}/keysets/${DEV_KEY.kid}/activate`, { method: 'POST' });
    expect(back.status).toBe(200);
    // And once the dwell has passed, a prepared key activates without force.
    await w.send(`${BASE}/keysets`, { json: { kid: 'next-2' } });
    w.services.now += DWELL_MS;
    const onTime = await w.send(`${BASE}/keysets/next-2/activate`, { method: 'POST' });
    expect(onTime.status).toBe(200);
    expect(w.services.audits.at(-1)).not.toHaveProperty('forced');
    // The body is checked like any other.
    const bad = await w.send<{ code: string }>(`${BASE}/keysets/next-1/activate`, {
      json: { force: 'yes' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('invalid_request');
  });

  it('keeps Trusted Server’s rotate: it publishes and signs at once', async () => {
    const w = await world();
    const rotated = await w.send<{ new_kid: string }>('/admin/keys/rotate', { json: {} });
    expect(rotated.status).toBe(200);
    const signed = await w.send<{ kid: string }>('/admin/keys/sign', { json: { id: 'r' } });
    expect(signed.body.kid).toBe(rotated.body.new_kid);
  });
});

describe('the schedule plan and the key documents’ caching', () => {
  it('shows every upcoming transition with its time and reason', async () => {
    const w = await world();
    await w.run(); // prepares the successor of the adopted key
    const plan = await w.send<{ plan: Step[] }>(`${BASE}/schedule`);
    expect(plan.status).toBe(200);
    const at = (offsetMs: number) => new Date(w.services.now + offsetMs).toISOString();
    // The first cycle; the timeline goes on to the lifetime plus the taint delay (at most 12).
    expect(plan.body.plan.length).toBeLessThanOrEqual(12);
    expect(plan.body.plan.slice(0, 5).map((s) => [s.operation, s.keyset, s.at])).toEqual([
      ['activate', expect.stringMatching(/^ts-/), at(DWELL_MS)],
      ['taint', DEV_KEY.kid, at(DWELL_MS + 30 * DAY)],
      ['prepare', null, at(60 * DAY)],
      ['remove', DEV_KEY.kid, at(DWELL_MS + 60 * DAY)],
      ['activate', '(next key 1)', at(83 * DAY)],
    ]);
    expect(plan.body.plan.every((s) => s.reason.length > 20)).toBe(true);
  });

  it('caps max-age at the next transition, adds stale-while-revalidate and stale-if-error, and keeps 304s', async () => {
    const w = await world();
    await w.run();
    w.services.now += DWELL_MS - 30_000; // the activation is 30 s away
    const res = await w.app.request('/.well-known/jwks.json');
    expect(res.headers.get('cache-control')).toBe(
      'public, max-age=30, stale-while-revalidate=60, stale-if-error=300',
    );
    const etag = res.headers.get('etag') ?? '';
    const revalidated = await w.app.request('/.well-known/jwks.json', {
      headers: { 'if-none-match': etag },
    });
    expect(revalidated.status).toBe(304);
    w.services.now += 3_600_000; // overdue: partners revalidate until the run has happened
    const overdue = await w.app.request('/.well-known/trusted-server.json');
    expect(overdue.headers.get('cache-control')).toMatch(/^public, max-age=0, /);
    // The stored document carries the time, so the hot path still reads two items.
    const item = w.services.config.get(STORE_NAMES.jwks)?.get(DOCUMENT_ITEM_KEYS.jwks) ?? '';
    expect(item.split('\n')[0]).toBe(
      `${etag} ${Date.parse(new Date(w.services.now - 3_600_000 + 30_000).toISOString())}`,
    );
  });

  it('uses the configured max-age when no transition is near', async () => {
    const w = await world({
      publisher: { domain: 'publisher.example' },
      request_signing: { config_store_id: 'c', secret_store_id: 's', lock_store_id: 'l' },
      key_documents: { max_age_seconds: 300, stale_while_revalidate_seconds: 30 },
      schedule: { activation_dwell_seconds: 900 },
    });
    await w.run();
    const res = await w.app.request('/.well-known/jwks.json');
    expect(res.headers.get('cache-control')).toBe(
      'public, max-age=300, stale-while-revalidate=30, stale-if-error=300',
    );
  });
});

describe('status and verification logs', () => {
  it('reports ages, expiry, the next transition and the published count', async () => {
    const w = await world();
    await w.run();
    w.services.now += DAY;
    await w.run();
    const status = await w.send<Record<string, unknown>>(`${BASE}/status`);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      deployment: 'default',
      healthy: true,
      published_count: 2,
      problems: [],
      next_transition: { operation: 'taint', keyset: DEV_KEY.kid },
    });
    expect(status.body['keys']).toEqual([
      // Adopted from Trusted Server's items: its age is unknown, so it counted as expiring then.
      { id: DEV_KEY.kid, state: 'PREPARED', age_days: 1, expires_in_days: -1, published_days: 1 },
      {
        id: expect.stringMatching(/^ts-/),
        state: 'ACTIVE',
        age_days: 1,
        expires_in_days: 89,
        published_days: 1,
      },
    ]);
  });

  it('reports stores that disagree with the keyring', async () => {
    const w = await world();
    await w.run();
    // Someone else's tool changes Trusted Server's items behind the keyring's back.
    w.services.config.get(STORE_NAMES.jwks)!.set('active-kids', DEV_KEY.kid);
    const status = await w.send<{ healthy: boolean; problems: Array<{ code: string }> }>(
      `${BASE}/status`,
    );
    expect(status.body.healthy).toBe(false);
    expect(status.body.problems.map((p) => p.code)).toContain('stores_disagree');
  });

  it('writes one log line per verification with its outcome and latency', async () => {
    const w = await world();
    const signed = await w.send<{ payload: string; signature: string; kid: string }>(
      '/admin/keys/sign',
      { json: { id: 'r' } },
    );
    const verify = (body: unknown) => w.app.request('/verify-signature', { json: body });
    await verify(signed.body);
    await verify({ ...signed.body, payload: `${signed.body.payload} ` });
    await verify({ ...signed.body, kid: 'nope-1' });
    const lines = w.services.logs.filter((l) => l['event'] === 'verify');
    expect(lines.map((l) => [l['outcome'], l['kid']])).toEqual([
      ['verified', DEV_KEY.kid],
      ['invalid_signature', DEV_KEY.kid],
      ['keyset_not_found', 'nope-1'],
    ]);
    expect(lines.every((l) => typeof l['latency_ms'] === 'number')).toBe(true);
  });

  it('needs a token: viewer reads the plan and status, only an operator runs', async () => {
    const w = await world();
    const viewer = await addAdminToken(
      w.services as MemoryServices,
      'view1',
      'view1-secret-0123456789abcdef',
      'viewer',
    );
    expect((await w.app.request(`${BASE}/schedule`, { token: viewer })).status).toBe(200);
    expect((await w.app.request(`${BASE}/status`, { token: viewer })).status).toBe(200);
    expect(
      (await w.app.request(`${BASE}/schedule/run`, { token: viewer, method: 'POST' })).status,
    ).toBe(403);
    expect((await w.app.request(`${BASE}/schedule`)).status).toBe(401);
    expect((await w.send(`/admin/deployments/nope/schedule`)).status).toBe(404);
  });
});
