// tsctl schedule run|plan and tsctl status against the app in-process (test/support/app.ts), so
// the clock can be moved: what an operator reads, and the exit codes a cron job or a monitor uses.
import { describe, expect, it } from 'vitest';
import { addAdminToken, DEV_KEY, memoryServices, testApp, withDevKey } from '../support/app.js';
import { tsctl } from './harness.js';

const DAY = 86_400_000;

async function setup() {
  const services = memoryServices(withDevKey());
  const token = await addAdminToken(services, 'ops1', 'ops1-secret-0123456789abcdef', 'operator');
  const app = testApp(services);
  const fetchApp = ((input: RequestInfo | URL, init?: RequestInit) =>
    app.fetch(new Request(input, init))) as typeof fetch;
  const run = (argv: string[]) =>
    tsctl(argv, {
      env: { TSCTL_ENDPOINT: 'https://keys.publisher.example', TSCTL_TOKEN: token },
      fetch: fetchApp,
    });
  return { services, run };
}

describe('tsctl schedule and status', () => {
  it('runs the schedule, shows the plan, and reports status with exit 7 when a person is needed', async () => {
    const { services, run } = await setup();
    // Trusted Server's store: the key's age is unknown, so a person is needed (or a run).
    const before = await run(['status']);
    expect(before.code).toBe(7);
    expect(before.stdout).toMatch(/^ERROR {3}active_key_expired ts-2025-10-A: /m);
    expect(before.stdout).toMatch(/^Key log: none yet \(started by the next prepare/m);

    const first = await run(['schedule', 'run']);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^Applied: prepare ts-2026-11-22 \(/m);
    expect(first.stdout).toMatch(
      /^Next: activate ts-2026-11-22 at 2026-11-22 09:04:00 \+0000 UTC/m,
    );
    const idle = await run(['schedule', 'run']);
    expect(idle.stdout).toMatch(/^Nothing was due \(keyring version 1\)\.\nNext: activate /);

    const plan = await run(['schedule', 'plan']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/^When\s+Operation\s+Keyset\s+Reason$/m);
    expect(plan.stdout).toMatch(/^2026-11-22 09:04:00 \+0000 UTC\s+activate\s+ts-2026-11-22\s+/m);
    expect(plan.stdout).toMatch(/^\S.*\s+prepare\s+\(new key\)\s+/m);
    const json = JSON.parse((await run(['schedule', 'plan', '-o', 'json'])).stdout);
    expect(json.plan[0]).toMatchObject({ operation: 'activate', keyset: 'ts-2026-11-22' });

    services.now += DAY;
    expect((await run(['schedule', 'run'])).stdout).toMatch(/^Applied: activate ts-2026-11-22/);
    const healthy = await run(['status']);
    expect(healthy.code).toBe(0);
    expect(healthy.stdout).toMatch(/^Deployment default \(keyring version 2\): healthy$/m);
    expect(healthy.stdout).toMatch(/^Active: ts-2026-11-22; published keys: 2$/m);
    // The schedule's prepare started the key log from the ACTIVE key, which endorsed the new one.
    expect(healthy.stdout).toMatch(
      new RegExp(
        `^Key log root: ${DEV_KEY.kid}, fingerprint [\\w-]{43} \\(partners pin this\\)$`,
        'm',
      ),
    );
    expect(healthy.stdout).not.toMatch(/Unendorsed keys/);
    expect(healthy.stdout).toMatch(new RegExp(`^Next transition: taint ${DEV_KEY.kid} at `, 'm'));
    const statusJson = await run(['status', '-o', 'json']);
    expect(statusJson.code).toBe(0);
    expect(JSON.parse(statusJson.stdout)).toMatchObject({ healthy: true, published_count: 2 });

    // A year without runs: the monitor's exit code says so.
    services.now += 365 * DAY;
    const late = await run(['status']);
    expect(late.code).toBe(7);
    expect(late.stdout).toMatch(/schedule_overdue/);
  });

  it('documents the commands and the exit codes in --help', async () => {
    const { run } = await setup();
    const help = await run(['--help']);
    expect(help.stdout).toMatch(/^ {2}schedule run +apply the transitions/m);
    expect(help.stdout).toMatch(/^ {2}status +key ages/m);
    expect(help.stdout).toMatch(/^ {2}7 {2}doctor, status: something needs a person/m);
    const activate = await run(['keyset', 'activate', '--help']);
    expect(activate.stdout).toMatch(/--force +sign at once even if published for less than/);
  });
});
