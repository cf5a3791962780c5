// The settings of the edge build. Edge code cannot read files, so scripts/build-wasm.mjs embeds the
// parsed `trusted-server.toml` as the constant `__TSK_SETTINGS__` (esbuild `define`).
import { TskError } from '../../core/errors.js';
import { parseSettings } from '../../core/settings.js';
import type { Settings } from '../../core/settings.js';

declare const __TSK_SETTINGS__: unknown;

/** Validates the embedded settings; fails clearly when the bundle was built without them. */
export function embeddedSettings(): Settings {
  if (typeof __TSK_SETTINGS__ === 'undefined') {
    throw new TskError('not_configured', 'No settings embedded: build with `npm run build`');
  }
  return parseSettings(__TSK_SETTINGS__);
}
