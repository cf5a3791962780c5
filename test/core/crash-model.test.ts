import { describe, expect, it } from 'vitest';
import { runCrashModel } from '../support/crash-model.js';

// `npm run test:soak` sets TSK_SOAK_RUNS for a long run; `npm test` runs a bounded one.
const soakRuns = Number(process.env['TSK_SOAK_RUNS'] ?? 0);
const runs = soakRuns > 0 ? soakRuns : 60;
const seed = Number(process.env['TSK_MODEL_SEED'] ?? 20261202);

describe('crash-and-fault model', () => {
  it(
    'keeps every published kid with its private key, one ACTIVE key, every private key accounted for and the version monotonic, through faults, late writes and kills',
    async () => {
      const totals = await runCrashModel({ runs, minSteps: 10, maxSteps: 30, seed });
      console.log(`crash model (seed ${seed}): ${JSON.stringify(totals)}`);
      expect(totals.violations).toBe(0);
      expect(totals.runs).toBe(runs);
      expect(totals.operations).toBeGreaterThanOrEqual(runs * 10);
      // The run must actually exercise what it claims to.
      expect(totals.kills).toBeGreaterThan(0);
      expect(totals.lateLanded).toBeGreaterThan(0);
      expect(totals.unknown).toBeGreaterThan(0);
      expect(totals.committed).toBeGreaterThan(0);
    },
    soakRuns > 0 ? 3_600_000 : 120_000,
  );
});
