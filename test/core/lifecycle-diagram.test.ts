// The README's lifecycle diagram is the machine: every edge of the transition table is drawn,
// and nothing else is (the one edge the table has no cell for: an ACTIVE key set becomes
// PREPARED when another is activated).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KEYSET_OPERATIONS, TRANSITIONS } from '../../src/core/keyring/transitions.js';

describe("the README's lifecycle diagram", () => {
  it('draws exactly the transition table', () => {
    const readme = readFileSync('README.md', 'utf8');
    const start = readme.indexOf('```mermaid\nstateDiagram-v2');
    expect(start).toBeGreaterThan(0);
    const block = readme.slice(start, readme.indexOf('```\n', start + 10));
    const drawn = [...block.matchAll(/^\s+(\S+) --> (\S+): (.+)$/gm)].map(
      ([, from, to, label]) => `${from} -> ${to}: ${label}`,
    );
    const expected = [
      '[*] -> PREPARED: prepare',
      'ACTIVE -> PREPARED: another key set is activated',
    ];
    for (const op of KEYSET_OPERATIONS) {
      for (const [from, outcome] of Object.entries(TRANSITIONS[op])) {
        if ('to' in outcome) {
          expected.push(`${from} -> ${outcome.to === 'removed' ? '[*]' : outcome.to}: ${op}`);
        }
      }
    }
    expect(drawn.sort()).toEqual(expected.sort());
  });
});
