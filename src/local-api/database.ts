// The state and its file. Every mutation runs on a copy of the state, is written to disk, and only
// then replaces the live state; all of it synchronously, so no other request can interleave with a
// read-modify-write, a failed validation or a failed write leaves nothing half-applied, and an
// answered write is on disk (write temp file, fsync, rename, fsync directory).
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import type { StateData } from './model.js';
import { emptyState } from './model.js';
import { parseState, serializeState } from './state-file.js';

/** Name of the state file inside the state directory. */
export const STATE_FILE = 'local-api-state.json';

/** The temp files `writeFileAtomic` makes next to `file` (hidden; pid and random suffix). */
function isTempOf(file: string, entry: string): boolean {
  return entry.startsWith(`.${basename(file)}.`) && entry.endsWith('.tmp');
}

/**
 * Prepares the state directory before the state is read. Removes temp files a killed process
 * left mid-write: each is a full copy of the state, seeds included, that nothing would ever
 * clean (writes are synchronous, so no live write of this process can own one). Refuses to start
 * empty when the state file is missing but the folder holds state of an earlier run (tokens, the
 * audit log): that would silently re-create the stores and reseed the development key.
 */
export function prepareStateDir(dir: string, file: string): void {
  const entries = readdirSync(dir);
  for (const entry of entries) {
    if (isTempOf(file, entry)) rmSync(join(dir, entry), { force: true });
  }
  if (existsSync(file)) return;
  const leftovers = entries.filter((e) => !e.startsWith('.')).sort();
  if (leftovers.length > 0) {
    throw new Error(
      `Local Fastly API state file ${file} is missing, but ${dir} holds ${leftovers.join(', ')} ` +
        'from an earlier run; starting empty would re-create the stores and reseed the public ' +
        `development key. Restore ${basename(file)} (e.g. from a backup), or remove the folder ` +
        `${dir} to start fresh.`,
    );
  }
}

/** Reads the state file; a missing file is an empty state, a corrupt one an Error naming it. */
export function loadState(file: string): StateData {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
    throw new Error(`Cannot read local Fastly API state file ${file}: ${(err as Error).message}`);
  }
  return parseState(text, file);
}

/** Replaces `file` with `text` atomically and durably (mode 0600). */
export function writeFileAtomic(file: string, text: string): void {
  const dir = dirname(file);
  const temp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = openSync(temp, 'wx', 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
  syncDirectory(dir);
}

/** Makes the rename itself durable; some platforms cannot fsync a directory, which is harmless. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Not supported here (e.g. Windows); the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The live state plus its file; the only way to change the state is `mutate`. */
export class Database {
  #state: StateData;
  readonly #file: string;
  /**
   * States that were replaced, each with the time it stopped being live, oldest first: kept for
   * `retainMs` so `stateAt` can answer what an edge that lags by up to that long sees. Every
   * state is a fresh copy that is never changed once live, so keeping one is keeping a snapshot.
   */
  readonly #history: Array<{ until: number; state: StateData }> = [];
  readonly #retainMs: number;

  constructor(file: string, state: StateData, options: { retainMs?: number } = {}) {
    this.#file = file;
    this.#state = state;
    this.#retainMs = options.retainMs ?? 0;
  }

  /** The current state, for reads. Do not modify it; use `mutate`. */
  get state(): Readonly<StateData> {
    return this.#state;
  }

  /**
   * The state that was live at `atMs` (wall clock), as far back as `retainMs`; the state loaded
   * at start counts as live since forever. Do not modify it.
   */
  stateAt(atMs: number): Readonly<StateData> {
    for (const entry of this.#history) if (entry.until > atMs) return entry.state;
    return this.#state;
  }

  /**
   * Runs `change` on a copy of the state, persists the copy and makes it live. If `change` throws
   * (an ApiError for a refused request) or the write fails, the live state is untouched.
   * Synchronous on purpose: see the file comment.
   */
  mutate<T>(change: (draft: StateData) => T): T {
    const draft = structuredClone(this.#state);
    const result = change(draft);
    writeFileAtomic(this.#file, serializeState(draft));
    if (this.#retainMs > 0) {
      const now = Date.now();
      this.#history.push({ until: now, state: this.#state });
      while ((this.#history[0]?.until ?? now) <= now - this.#retainMs) this.#history.shift();
    }
    this.#state = draft;
    return result;
  }
}
