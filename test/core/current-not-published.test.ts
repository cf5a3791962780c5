// The race docs/architecture.md ("Drift") describes: a bulk update of ours that lands late, over a
// Trusted Server rotate made meanwhile, leaves Trusted Server's `current-kid` outside
// `active-kids`. No compare-and-set can refuse that write; what this service owes is to report it
// and mend it at the next change, without touching the key Trusted Server signs with.
import { describe, expect, it } from 'vitest';
import { parseActiveKids } from '../../src/core/keys/active-kids.js';
import { publicJwk } from '../../src/core/keys/jwk.js';
import { publicKeyOf } from '../../src/core/crypto/ed25519.js';
import { DEV_KID, engineOver, trustedServerStore } from '../support/engine-setup.js';

describe('current-kid outside active-kids (a late write of ours over a Trusted Server rotate)', () => {
  it('is reported by doctor and mended by the next change, which keeps the signing kid', async () => {
    const { store, engine } = engineOver(trustedServerStore(), { edgeKeys: true });
    await engine.mutate({ operation: 'prepare', kid: 'ours-1' });
    // Trusted Server rotates: a new key, made current and published...
    const seed = new Uint8Array(32).fill(9);
    store.secrets.set('ts-r1', Buffer.from(seed).toString('base64'));
    store.items.set('ts-r1', JSON.stringify(publicJwk('ts-r1', await publicKeyOf(seed))));
    store.items.set('active-kids', `${store.items.get('active-kids') ?? ''},ts-r1`);
    store.items.set('current-kid', 'ts-r1');
    // ...then our earlier bulk update lands late and puts back the active-kids it was sent with.
    store.items.set('active-kids', `${DEV_KID},ours-1`);

    const findings = (await engine.diagnose()).findings;
    expect(findings.map((f) => f.code)).toContain('drift');
    expect(JSON.stringify(findings)).toContain('current_not_published');

    await engine.mutate({ operation: 'adopt' });
    expect(store.items.get('current-kid')).toBe('ts-r1');
    expect(parseActiveKids(store.items.get('active-kids') ?? null)).toContain('ts-r1');
    expect(store.secrets.has('ts-r1')).toBe(true);
  });
});
