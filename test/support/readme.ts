// The README's code blocks, extracted for tests that run them exactly as written, so the
// documented commands cannot rot.
import { readFile } from 'node:fs/promises';

/**
 * The `n`th (from 0) fenced block in `lang` under the heading `heading` (after the text `after`,
 * when given), before the next heading of the same or a higher level. Lines inside fences are
 * never headings (a shell comment starts with `# ` too).
 */
export async function readmeBlock(
  heading: string,
  options: { after?: string; lang?: string; n?: number } = {},
): Promise<string> {
  const lang = options.lang ?? 'sh';
  const n = options.n ?? 0;
  const lines = (await readFile(new URL('../../README.md', import.meta.url), 'utf8')).split('\n');
  const level = /^#+/.exec(heading)?.[0].length ?? 1;
  const start = lines.indexOf(heading);
  if (start < 0) throw new Error(`README: no heading "${heading}"`);
  const section: string[] = [];
  let fenced = false;
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('```')) fenced = !fenced;
    const depth = fenced ? 0 : (/^(#+) /.exec(line)?.[1]?.length ?? 0);
    if (depth > 0 && depth <= level) break;
    section.push(line);
  }
  let text = section.join('\n');
  if (options.after !== undefined) {
    const at = text.indexOf(options.after);
    if (at < 0) throw new Error(`README: no "${options.after}" under "${heading}"`);
    text = text.slice(at);
  }
  const blocks = [...text.matchAll(/^```(\S*)\n([\s\S]*?)^```$/gm)]
    .filter((m) => m[1] === lang)
    .map((m) => m[2] ?? '');
  const block = blocks[n];
  if (block === undefined) throw new Error(`README: no ${lang} block #${n} under "${heading}"`);
  return block;
}
