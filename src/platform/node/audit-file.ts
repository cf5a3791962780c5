// The local audit trail: one JSON line per admin request, appended to `<state dir>/audit.log`
// (mode 0600) and echoed on stdout, as the Fastly build sends it to a log endpoint.
import { appendFile } from 'node:fs/promises';
import type { AuditRecord, AuditSink } from '../../core/ports.js';

/** An AuditSink over a file (and optionally a second writer, e.g. stdout). */
export function fileAuditSink(path: string, echo?: (line: string) => void): AuditSink {
  // Appends are chained so lines keep the order of the requests that finished.
  let queue: Promise<void> = Promise.resolve();
  return {
    write(record: AuditRecord): Promise<void> {
      const line = `${JSON.stringify({ audit: true, ...record })}\n`;
      echo?.(line);
      queue = queue.then(() => appendFile(path, line, { mode: 0o600 }));
      return queue;
    },
  };
}
