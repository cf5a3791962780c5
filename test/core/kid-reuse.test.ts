// A kid, once used, is never issued for another key: partners cache keys by kid, so a second key
// under a removed kid would fail verification for anyone holding the first. Within a day, across
// days, removed or not.
import { describe, expect, it } from 'vitest';
import {
  MAX_RETIRED_KIDS,
  parseKeyring,
  retireKid,
  serializeKeyring,
  emptyKeyring,
} from '../../src/core/keyring/document.js';
import { expectConsistent } from '../support/consistency.js';
import { FakeKeyStore } from '../support/fake-key-store.js';
import { engineOver } from '../support/engine-setup.js';

const setup = () => engineOver(new FakeKeyStore());

const keyringOf = (store: FakeKeyStore) => parseKeyring(store.items.get('keyring') ?? '');

describe('kids are never reused', () => {
  it('a removed date kid is not issued again the same day', async () => {
    const { store, engine } = setup();
    const first = await engine.mutate({ operation: 'rotate' });
    const kid = first.keyset?.id ?? '';
    expect(kid).toBe('ts-2026-11-22');
    await engine.mutate({ operation: 'rotate' });
    await engine.mutate({ operation: 'remove', id: kid });
    expect(keyringOf(store).retired).toEqual([kid]);
    const again = await engine.mutate({ operation: 'prepare' });
    expect(again.keyset?.id).not.toBe(kid);
    expect(again.keyset?.id).toMatch(/^ts-2026-11-22-[0-9a-f]{8}$/);
    expectConsistent(store);
  });

  it('refuses a removed kid chosen by hand with kid_exists, saying why', async () => {
    const { engine } = setup();
    await engine.mutate({ operation: 'rotate', kid: 'partner-a' });
    await engine.mutate({ operation: 'rotate', kid: 'partner-b' });
    await engine.mutate({ operation: 'remove', id: 'partner-a' });
    await expect(engine.mutate({ operation: 'prepare', kid: 'partner-a' })).rejects.toMatchObject({
      code: 'kid_exists',
      message: expect.stringContaining('a kid is never reused'),
    });
  });

  it('never issues the same kid twice across many days with removals', async () => {
    const { engine, clock } = setup();
    const issued = new Set<string>();
    for (let day = 0; day < 30; day++) {
      for (let n = 0; n < 3; n++) {
        const r = await engine.mutate({ operation: 'rotate' });
        const id = r.keyset?.id ?? '';
        expect(issued.has(id), id).toBe(false);
        issued.add(id);
        // Keep two keys: remove everything else, so removed kids come up again as candidates.
        const { keyring } = await engine.read();
        for (const k of keyring.keysets) {
          if (k.state !== 'ACTIVE' && k.id !== id)
            await engine.mutate({ operation: 'remove', id: k.id });
        }
      }
      // Back to the same day every other day: a clock that goes back must not reissue either.
      clock.advance(day % 2 === 0 ? 86_400_000 : -86_400_000);
    }
    expect(issued.size).toBe(90);
  });

  it('remembers at most MAX_RETIRED_KIDS, forgetting the oldest, and stays under the item limit', () => {
    let keyring = emptyKeyring('default', '2026-11-22T00:00:00.000Z');
    for (let i = 0; i < MAX_RETIRED_KIDS + 5; i++) {
      keyring = retireKid(keyring, `ts-2026-11-22-${i.toString(16).padStart(8, '0')}`);
    }
    expect(keyring.retired).toHaveLength(MAX_RETIRED_KIDS);
    expect(keyring.retired?.[0]).toBe('ts-2026-11-22-00000005');
    expect(serializeKeyring(keyring).length).toBeLessThan(6000);
    expect(retireKid(keyring, 'ts-2026-11-22-00000005').retired).toHaveLength(MAX_RETIRED_KIDS);
  });

  it('reads a keyring written before kids were remembered', () => {
    const old =
      '{"schema":1,"deployment":"default","version":3,"updated_at":"2026-11-22T00:00:00.000Z","keysets":[]}';
    expect(parseKeyring(old).retired).toBeUndefined();
    expect(serializeKeyring(parseKeyring(old))).toBe(old);
  });
});
