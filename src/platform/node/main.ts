// `npm start`: the local edge on 127.0.0.1:7676 and the local Fastly API on 127.0.0.1:7677.
import { isAbsolute, join, relative } from 'node:path';
import { ignoredSettingsLine } from '../../core/settings.js';
import { startLocalEdge } from './local-edge.js';
import { stopOnSignals } from './stop-on-signals.js';

const port = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`${name} must be a port number (0-65535), not ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return n;
};

async function main(): Promise<void> {
  const stateDir = process.env['TSK_STATE_DIR'] || '.fastly-local';
  // Another settings file than ./trusted-server.toml (a second deployment layout, a test's bounds,
  // Trusted Server's own file).
  const settingsPath = process.env['TSK_SETTINGS'] || 'trusted-server.toml';
  const edge = await startLocalEdge({
    stateDir,
    edgePort: port('TSK_EDGE_PORT', 7676),
    apiPort: port('TSK_API_PORT', 7677),
    settingsPath,
  });
  const ignored = ignoredSettingsLine(settingsPath, edge.ignoredSettings);
  // Show paths as the user can type them: relative under the working directory, else absolute.
  const shown = (path: string): string => {
    const rel = relative(process.cwd(), path);
    return rel.startsWith('..') || isAbsolute(rel) ? path : rel;
  };
  const tokenFile = shown(edge.adminTokenFile);
  const created =
    edge.stores.created.length > 0
      ? `\n  created and seeded: ${edge.stores.created.join(', ')}`
      : '';
  process.stdout.write(
    [
      'trusted-server-keys: local edge running',
      ...(ignored ? [`  ${ignored}`] : []),
      `  edge (the app):        ${edge.edgeUrl}`,
      `  local Fastly API:      ${edge.apiUrl}   (token in ${shown(edge.apiTokenFile)})`,
      `  admin token (operator) in ${tokenFile}${created}`,
      '',
      'Try:',
      `  curl -s ${edge.edgeUrl}/.well-known/trusted-server.json`,
      `  curl -s -X POST ${edge.edgeUrl}/admin/keys/rotate -H "Authorization: Bearer $(cat ${tokenFile})" -H 'Content-Type: application/json' -d '{}'`,
      '',
      'Or with tsctl (see docs/tsctl.md):',
      `  export TSCTL_ENDPOINT=${edge.edgeUrl} TSCTL_TOKEN="$(cat ${tokenFile})"`,
      '  npx tsctl keyset list',
      '',
      `Ctrl-C stops it; state stays in ${shown(join(stateDir, '.'))}/.`,
      '',
    ].join('\n'),
  );
  stopOnSignals(() => edge.close());
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  console.error(`trusted-server-keys: could not start: ${message}`);
  if (/EADDRINUSE/.test(message))
    console.error('  a port is taken: set TSK_EDGE_PORT / TSK_API_PORT to free ones');
  process.exit(1);
});
