// The code blocks of the README and of docs/*.md, extracted for tests that run them exactly as
// written, so the documented commands cannot rot.
import { readFile } from 'node:fs/promises';

/** A fenced block: its language (the word after the fence), its text, and the line it starts on. */
export interface FencedBlock {
  lang: string;
  body: string;
  /** 1-based line of the opening fence. */
  line: number;
}

/** The repository-relative markdown file `file` (default `README.md`), as text. */
export async function readDoc(file = 'README.md'): Promise<string> {
  return readFile(new URL(`../../${file}`, import.meta.url), 'utf8');
}

/** Every fenced block of `markdown`, in document order. */
export function fencedBlocks(markdown: string): FencedBlock[] {
  const blocks: FencedBlock[] = [];
  const lines = markdown.split('\n');
  let open: { lang: string; line: number; body: string[] } | undefined;
  lines.forEach((text, i) => {
    if (open === undefined) {
      const fence = /^```(\S*)\s*$/.exec(text);
      if (fence) open = { lang: fence[1] ?? '', line: i + 1, body: [] };
    } else if (text === '```') {
      blocks.push({ lang: open.lang, line: open.line, body: open.body.join('\n') + '\n' });
      open = undefined;
    } else {
      open.body.push(text);
    }
  });
  if (open !== undefined) throw new Error(`unclosed fence at line ${open.line}`);
  return blocks;
}

/**
 * The `n`th (from 0) fenced block in `lang` under the heading `heading` of `file` (default the
 * README; after the text `after`, when given), before the next heading of the same or a higher
 * level. Lines inside fences are never headings (a shell comment starts with `# ` too).
 */
export async function readmeBlock(
  heading: string,
  options: { after?: string; lang?: string; n?: number; file?: string } = {},
): Promise<string> {
  const lang = options.lang ?? 'sh';
  const n = options.n ?? 0;
  const file = options.file ?? 'README.md';
  const lines = (await readDoc(file)).split('\n');
  const level = /^#+/.exec(heading)?.[0].length ?? 1;
  const start = lines.indexOf(heading);
  if (start < 0) throw new Error(`${file}: no heading "${heading}"`);
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
    if (at < 0) throw new Error(`${file}: no "${options.after}" under "${heading}"`);
    text = text.slice(at);
  }
  const blocks = [...text.matchAll(/^```(\S*)\n([\s\S]*?)^```$/gm)]
    .filter((m) => m[1] === lang)
    .map((m) => m[2] ?? '');
  const block = blocks[n];
  if (block === undefined) throw new Error(`${file}: no ${lang} block #${n} under "${heading}"`);
  return block;
}

/** The first line of a block that the README test does not run, and why: `# not run by the README test: <reason>`. */
export const NOT_RUN = /^# not run by the README test: (.+)$/;
