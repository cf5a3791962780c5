// Every test in the suite must make at least one assertion: a test that asserts nothing can
// never fail, so it proves nothing. Registered for the whole suite in vitest.config.ts.
import { beforeEach, expect } from 'vitest';

beforeEach(() => {
  expect.hasAssertions();
});
