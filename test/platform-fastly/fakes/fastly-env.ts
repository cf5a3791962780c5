// Stand-in for `fastly:env` (mapped by vitest.config.ts): the variables a test sets.

/** The environment the fake answers from. */
export const fakeEnv = new Map<string, string>();

/** The fake `env`: undefined for a variable that is not set. */
export function env(name: string): string | undefined {
  return fakeEnv.get(name);
}
