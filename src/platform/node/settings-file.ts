// Reads trusted-server.toml for `npm start`, the local Compute host and `npm run build` (which
// bundles this file and calls `readSettingsFile`, so the same file gets the same answer and the
// same message on every path), and for a `tsctl setup` that checks what it wrote.
import { readFile } from 'node:fs/promises';
import { parse } from 'smol-toml';
import {
  checkSettings,
  type CheckedSettings,
  type Settings,
  type SettingsTarget,
} from '../../core/settings.js';

/** Reads, parses and validates a settings file; errors name the file and the bad key. */
export async function readSettingsFile(
  path: string,
  options: { target?: SettingsTarget } = {},
): Promise<CheckedSettings> {
  let raw: unknown;
  try {
    raw = parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return checkSettings(raw, { file: path, ...(options.target ? { target: options.target } : {}) });
}

// The build script loads this one module; the line it prints comes from the same place as start's.
export { ignoredSettingsLine } from '../../core/settings.js';

/** `readSettingsFile` for callers that log nothing about ignored keys. */
export async function loadSettingsFile(path: string): Promise<Settings> {
  return (await readSettingsFile(path)).settings;
}
