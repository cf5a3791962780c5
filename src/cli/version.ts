// tsctl's version: the package's, read from package.json at run time. Both src/cli/ and the
// bundle's folder cli/dist/ sit two levels below the package root, so one relative path serves
// both, and the bundle does not change whenever package.json does.
import { createRequire } from 'node:module';

/** The version `tsctl --version` prints ("unknown" if package.json cannot be read). */
export const TSCTL_VERSION: string = readVersion();

function readVersion(): string {
  try {
    const pkg: unknown = createRequire(import.meta.url)('../../package.json');
    const version = (pkg as { version?: unknown }).version;
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}
