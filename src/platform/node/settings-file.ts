// Loads trusted-server.toml for the local edge (the Fastly build embeds it instead).
import { readFile } from 'node:fs/promises';
import { parse } from 'smol-toml';
import { parseSettings, type Settings } from '../../core/settings.js';

/** Reads and validates the settings file; errors name the file and the bad field. */
export async function loadSettingsFile(path: string): Promise<Settings> {
  let raw: unknown;
  try {
    raw = parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return parseSettings(raw);
}
