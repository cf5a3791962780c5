// Rendering for people: SPIRL-style times (`2026-01-13 09:23:41 +0000 UTC`), state names, and
// aligned tables. Scripts use `-o json`, which bypasses all of this.
import type { Keyring, KeysetState } from '../core/keyring/document.js';

const STATE_LABELS: Readonly<Record<KeysetState, string>> = {
  PREPARED: 'Prepared',
  ACTIVE: 'Active',
  TAINTED: 'Tainted',
  DEACTIVATED: 'Deactivated',
};

/** An ISO instant as `2026-01-13 09:23:41 +0000 UTC` (Go's time format, as spirlctl prints it). */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number): string => String(n).padStart(2, '0');
  const day = `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
  const time = `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  return `${day} ${time} +0000 UTC`;
}

/** `ACTIVE` → `Active`. */
export function stateLabel(state: KeysetState): string {
  return STATE_LABELS[state];
}

/** Rows as columns two spaces apart, each as wide as its widest cell; no trailing spaces. */
export function alignColumns(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '),
    )
    .join('\n');
}

/** The keyring as `keyset list` shows it: the deployment, then key sets newest first. */
export function renderKeyring(
  keyring: Keyring,
  drift: ReadonlyArray<{ code: string; kid?: string; severity: string; message: string }> = [],
): string {
  const header = `Deployment: ${keyring.deployment} (keyring version ${keyring.version}, updated ${formatTime(keyring.updated_at)})`;
  if (keyring.keysets.length === 0) return `${header}\n\nNo key sets.`;
  // Newest first: by issue time, then by id, both descending, so equal times still sort stably.
  const sorted = [...keyring.keysets].sort(
    (a, b) =>
      Date.parse(b.issued_at) - Date.parse(a.issued_at) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
  );
  const rows = [
    ['Type', 'Keyset ID', 'Issued At', 'Expires At', 'State'],
    ...sorted.map((k) => [
      'Ed25519',
      k.id,
      formatTime(k.issued_at),
      formatTime(k.expires_at),
      k.unusable ? `${stateLabel(k.state)} (unusable: ${k.unusable.code})` : stateLabel(k.state),
    ]),
  ];
  const notes = [
    ...keyring.keysets
      .filter((k) => k.unusable)
      .map((k) => `Unusable ${k.id}: ${k.unusable?.reason ?? ''}`),
  ];
  if (drift.length > 0) {
    notes.push(
      "Drift: Trusted Server's items disagree with the keyring (the edge serves what Trusted Server signs with; `tsctl keyset adopt` or the next change folds it):",
      ...drift.map((d) => `  ${d.severity} ${d.code}: ${d.message}`),
    );
  }
  const table = `${header}\n\n${alignColumns(rows)}`;
  return notes.length > 0 ? `${table}\n\n${notes.join('\n')}` : table;
}
