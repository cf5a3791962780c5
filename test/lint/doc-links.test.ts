// Every relative link of README.md and docs/*.md points to a file that exists, and every
// `#anchor` to a heading of its target (GitHub's slugs), so moving text between the README and
// docs/ cannot leave a dead link behind.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The markdown files whose links are checked, repository-relative. */
export function documents(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs.sort()];
}

/** `markdown` without fenced blocks and inline code, where `[x](y)` is not a link. */
function prose(markdown: string): string[] {
  let fenced = false;
  return markdown.split('\n').map((line) => {
    if (line.startsWith('```')) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : line.replace(/`[^`]*`/g, '``');
  });
}

/** GitHub's anchor for a heading's text: lower case, punctuation dropped, spaces as hyphens. */
export function slug(heading: string): string {
  return heading
    .replace(/`/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- _]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor the headings of `markdown` define (a repeated heading gets -1, -2, ...). */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const h = fenced ? null : /^#{1,6} (.+)$/.exec(line);
    if (!h) continue;
    const base = slug(h[1] ?? '');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Every relative link of the file `file` that does not resolve, as `file:line: target (why)`. */
export function deadLinks(file: string, text = readFileSync(join(ROOT, file), 'utf8')): string[] {
  const dead: string[] = [];
  prose(text).forEach((line, i) => {
    for (const m of line.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1] ?? '';
      if (/^[a-z][a-z+.-]*:/i.test(target)) continue; // https:, mailto:
      const [path = '', anchor] = target.split('#');
      const where = `${file}:${i + 1}: ${target}`;
      const resolved = path === '' ? file : normalize(join(dirname(file), path));
      if (path !== '' && !existsSync(join(ROOT, resolved))) {
        dead.push(`${where} (no file ${resolved})`);
        continue;
      }
      if (anchor !== undefined && resolved.endsWith('.md')) {
        const target = path === '' ? text : readFileSync(join(ROOT, resolved), 'utf8');
        if (!anchors(target).has(anchor))
          dead.push(`${where} (no heading #${anchor} in ${resolved})`);
      }
    }
  });
  return dead;
}

describe('links in README.md and docs/', () => {
  it('computes GitHub anchors as GitHub does', () => {
    expect(slug("Trusted Server's scripts (HTTP Basic, curl's defaults)")).toBe(
      'trusted-servers-scripts-http-basic-curls-defaults',
    );
    expect(slug('Running the built wasm locally (`npm run serve`)')).toBe(
      'running-the-built-wasm-locally-npm-run-serve',
    );
    expect([...anchors('# A\n## B\n```sh\n# not a heading\n```\n## B\n')]).toEqual([
      'a',
      'b',
      'b-1',
    ]);
  });

  it('finds a dead file and a dead anchor, and ignores code and absolute URLs', () => {
    const text = [
      '[gone](nope.md) [moved](../README.md#no-such-heading) [fine](../README.md#quick-start)',
      '[web](https://example.com/x) `[code](nope.md)` [self](#here)',
      '```sh',
      'echo [x](nope.md)',
      '```',
      '## Here',
    ].join('\n');
    expect(deadLinks('docs/example.md', text)).toEqual([
      'docs/example.md:1: nope.md (no file docs/nope.md)',
      'docs/example.md:1: ../README.md#no-such-heading (no heading #no-such-heading in README.md)',
    ]);
  });

  it.each(documents())('%s: every relative link resolves', (file) => {
    expect(deadLinks(file)).toEqual([]);
  });
});
