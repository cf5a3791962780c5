// One local Fastly API per state directory. Two processes serving one `.fastly-local/` would each
// hold the state in memory and overwrite each other's writes on disk, so the second is refused
// with the first one's pid and address. The claim is `.running.json` in the directory, which also
// tells tools (tsctl token --local) where the running API and edge are, without exported ports.
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The claim file's name inside the state directory. */
export const RUNNING_FILE = '.running.json';

/** What `running.json` says about the process serving a state directory. */
export interface RunningInstance {
  pid: number;
  started_at: string;
  /** The local Fastly API's base URL, once it listens. */
  api_url?: string;
  /** The local edge's base URL, when an edge runs in front of this API. */
  edge_url?: string;
}

/** Directories claimed by this process and not yet released (tests run several instances). */
const claimedHere = new Set<string>();

/** Refused: another live instance serves the directory. */
export class StateDirInUseError extends Error {
  override readonly name = 'StateDirInUseError';
  constructor(
    readonly stateDir: string,
    readonly holder: RunningInstance,
  ) {
    const where = holder.edge_url ?? holder.api_url ?? 'starting';
    super(
      `another local edge (pid ${holder.pid}, ${where}) is using the state directory ${stateDir}; ` +
        'stop it first, or give this one its own directory with TSK_STATE_DIR',
    );
  }
}

/**
 * Claims `stateDir` for this process, or throws StateDirInUseError when a live process holds it.
 * A claim left by a process that died (kill -9, a crash) is taken over.
 */
export function claimStateDir(stateDir: string, nowMs = Date.now()): void {
  const dir = resolve(stateDir);
  const file = join(dir, RUNNING_FILE);
  const holder = readRunningInstance(dir);
  if (holder && (claimedHere.has(dir) || (holder.pid !== process.pid && isAlive(holder.pid)))) {
    throw new StateDirInUseError(stateDir, holder);
  }
  writeClaim(file, { pid: process.pid, started_at: new Date(nowMs).toISOString() });
  claimedHere.add(dir);
}

/** Adds facts (the API's or the edge's URL) to this process's claim. */
export function updateClaim(stateDir: string, facts: Partial<RunningInstance>): void {
  const dir = resolve(stateDir);
  const current = readRunningInstance(dir);
  if (!current || current.pid !== process.pid || !claimedHere.has(dir)) return;
  writeClaim(join(dir, RUNNING_FILE), { ...current, ...facts, pid: process.pid });
}

/** Gives the directory up (on close); a claim that is not this process's is left alone. */
export function releaseStateDir(stateDir: string): void {
  const dir = resolve(stateDir);
  if (!claimedHere.delete(dir)) return;
  const current = readRunningInstance(dir);
  if (current?.pid !== process.pid) return;
  try {
    unlinkSync(join(dir, RUNNING_FILE));
  } catch {
    // Already gone: nothing to give up.
  }
}

/** The instance serving `stateDir` per its claim file, or null (no file, unreadable, or dead). */
export function readRunningInstance(stateDir: string): RunningInstance | null {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(join(stateDir, RUNNING_FILE), 'utf8'));
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null) return null;
  const r = raw as Record<string, unknown>;
  if (typeof r['pid'] !== 'number' || !Number.isInteger(r['pid']) || r['pid'] <= 0) return null;
  const out: RunningInstance = {
    pid: r['pid'],
    started_at: typeof r['started_at'] === 'string' ? r['started_at'] : '',
  };
  if (typeof r['api_url'] === 'string') out.api_url = r['api_url'];
  if (typeof r['edge_url'] === 'string') out.edge_url = r['edge_url'];
  return out;
}

/** True when a process with this pid exists (EPERM: it exists, owned by someone else). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function writeClaim(file: string, instance: RunningInstance): void {
  // Write then rename, so a reader never sees half a file.
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(instance)}\n`, { mode: 0o600 });
  renameSync(temp, file);
}
