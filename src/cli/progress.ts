// A spinner for long waits, drawn on stderr only when a person is watching (a TTY) and only
// after a second, so quick commands and scripts see nothing but their output.

import type { Writer } from './io.js';

/** How long a request may take before the spinner appears. */
export const PROGRESS_DELAY_MS = 1000;
const FRAME_MS = 100;
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const CLEAR_LINE = '\r\x1b[2K';

/** Where progress goes, if anywhere. */
export interface ProgressTarget {
  stderr: Writer;
  isTTY: boolean;
}

/** Awaits `work`; on a TTY, shows `waiting for <label>... Ns` on stderr while it takes over 1 s. */
export async function withProgress<T>(
  target: ProgressTarget,
  label: string,
  work: Promise<T>,
): Promise<T> {
  if (!target.isTTY) return work;
  const started = Date.now();
  let frame = 0;
  let drawn = false;
  let ticker: ReturnType<typeof setInterval> | undefined;
  const draw = (): void => {
    const seconds = Math.floor((Date.now() - started) / 1000);
    const glyph = FRAMES[frame++ % FRAMES.length] ?? '';
    target.stderr.write(`${CLEAR_LINE}${glyph} waiting for ${label}... ${seconds}s`);
    drawn = true;
  };
  const delay = setTimeout(() => {
    draw();
    ticker = setInterval(draw, FRAME_MS);
  }, PROGRESS_DELAY_MS);
  try {
    return await work;
  } finally {
    clearTimeout(delay);
    if (ticker !== undefined) clearInterval(ticker);
    // Leave the line as it was found, so the answer or the error starts on a clean line.
    if (drawn) target.stderr.write(CLEAR_LINE);
  }
}
