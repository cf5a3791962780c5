// The folder boundaries of docs/architecture.md ("Layers and what each may import") are enforced
// by eslint.config.js. These probes lint a one-line import as if it stood in a folder, so a rule
// that silently stopped matching (a renamed folder, a pattern typo) fails here, not in review.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint();

/** The no-restricted-imports messages a probe file with `source` gets at `filePath`. */
async function restrictedImports(filePath: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${source}\nexport const probe = x;\n`, { filePath });
  if (!result) throw new Error(`eslint returned no result for ${filePath}`);
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layer boundaries', () => {
  it.each([
    ['src/http/probe.ts', "import { x } from '../fastly-api/index.js';"],
    ['src/http/routes/probe.ts', "import { x } from '../../fastly-api/client.js';"],
    ['src/http/probe.ts', "import { x } from '../platform/node/services.js';"],
    ['src/fastly-api/probe.ts', "import { x } from '../http/services.js';"],
    ['src/core/probe.ts', "import { x } from '../http/services.js';"],
    ['src/core/probe.ts', "import { x } from '../fastly-api/index.js';"],
    ['src/local-api/probe.ts', "import { x } from '../http/app.js';"],
  ])('refuses in %s: %s', async (filePath, source) => {
    expect(await restrictedImports(filePath, source)).toHaveLength(1);
  });

  it.each([
    ['src/http/probe.ts', "import { x } from '../core/errors.js';"],
    ['src/fastly-api/probe.ts', "import { x } from '../core/ports.js';"],
    ['src/platform/fastly/probe.ts', "import { x } from '../../fastly-api/index.js';"],
    ['src/platform/node/probe.ts', "import { x } from '../../http/services.js';"],
    // tsctl setup provisions through the management client.
    ['src/cli/commands/probe.ts', "import { x } from '../../fastly-api/index.js';"],
  ])('allows in %s: %s', async (filePath, source) => {
    expect(await restrictedImports(filePath, source)).toEqual([]);
  });

  it('says why the app may not import the management client', async () => {
    const [message] = await restrictedImports(
      'src/http/probe.ts',
      "import { x } from '../fastly-api/index.js';",
    );
    expect(message).toContain('src/http may import only src/core');
  });
});
