// What a schedule run reads through the management API (issue 15: at most one read when nothing
// is due), and that reading less never hides a due transition: a successor whose private key was
// deleted out of band still makes the run prepare another, as the full read always did.
import { describe, expect, it } from 'vitest';
import { STORE_NAMES } from '../../src/core/deployments.js';
import { addAdminToken, memoryServices, testApp, withDevKey } from '../support/app.js';

const BASE = '/admin/deployments/default';
/** The default activation dwell and then some. */
const PAST_DWELL_MS = 300_000;

interface RunBody {
  applied: Array<{ operation: string; keyset: string }>;
  keyring_version: number;
  plan: unknown[];
}

async function world() {
  const services = memoryServices(withDevKey());
  const token = await addAdminToken(services, 'ops1', 'ops1-secret-0123456789abcdef', 'operator');
  const app = testApp(services);
  const send = async <T>(path: string, method = 'GET') => {
    const res = await app.request(path, { token, method });
    return { status: res.status, body: (await res.json()) as T };
  };
  const store = () => services.keyStores.get('default');
  /** One run, with the management-API calls it made and the lease record after it. */
  const run = async () => {
    const before = store()?.calls.length ?? 0;
    const res = await send<RunBody>(`${BASE}/schedule/run`, 'POST');
    expect(res.status).toBe(200);
    return { ...res.body, calls: store()!.calls.slice(before) };
  };
  const states = async () => {
    const { body } = await send<{ keysets: Array<{ id: string; state: string }> }>(
      `${BASE}/keysets`,
    );
    return Object.fromEntries(body.keysets.map((k) => [k.id, k.state]));
  };
  return { services, send, run, states };
}

describe('schedule run reads', () => {
  it('reads the config items only, takes no lease and writes nothing when nothing is due', async () => {
    const w = await world();
    // Adopted dev key (expiring now): prepare a successor, then activate it after the dwell.
    expect((await w.run()).applied.map((s) => s.operation)).toEqual(['prepare']);
    w.services.now += PAST_DWELL_MS;
    expect((await w.run()).applied.map((s) => s.operation)).toEqual(['activate']);
    // The dev key is retired (PREPARED, superseded): its taint is 30 days off.
    const leaseWrites = w.services.leaseStore.entries.size;
    const idle = await w.run();
    expect(idle.applied).toEqual([]);
    expect(idle.calls).toEqual(['readConfigItems']);
    expect(w.services.leaseStore.entries.size).toBe(leaseWrites);
    // The plan it shows is the one the full read gives.
    const full = await w.send<{ plan: unknown[]; keyring_version: number }>(`${BASE}/schedule`);
    expect(idle.plan).toEqual(full.body.plan);
    expect(idle.keyring_version).toBe(full.body.keyring_version);
  });

  it('reads the secret names when a missing private key could make something due, and acts on them', async () => {
    const w = await world();
    const [prepared] = (await w.run()).applied;
    const successor = prepared!.keyset;
    // Nothing due (the successor waits out the dwell), but only if its private key exists:
    // without it the successor is unpublished and a prepare is due. So the run reads the names.
    const waiting = await w.run();
    expect(waiting.applied).toEqual([]);
    expect(waiting.calls).toEqual(['readConfigItems', 'listSecretNames']);
    // The successor's private key is deleted behind the service's back: the run must see it.
    w.services.secrets.get(STORE_NAMES.signingKeys)!.delete(successor);
    const mended = await w.run();
    expect(mended.applied.map((s) => s.operation)).toEqual(['prepare']);
    expect(mended.applied[0]!.keyset).not.toBe(successor);
    expect((await w.states())[successor]).toBe('DEACTIVATED');
  });
});
