// Lint rules, including the folder boundaries of DESIGN.md ("what each folder may import").
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = { group: ['node:*'], message: 'node:* is only for Node-side folders.' };
const fastlyModules = {
  group: ['fastly:*'],
  message: 'fastly:* is only for src/platform/fastly.',
};
const upward = (folders, why) => ({
  group: folders.flatMap((f) => [`**/${f}`, `**/${f}/**`]),
  message: why,
});

export default tseslint.config(
  { ignores: ['node_modules/', 'bin/', 'pkg/', 'build/', '.fastly-local/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            nodeBuiltins,
            fastlyModules,
            upward(
              ['http', 'fastly-api', 'platform', 'local-api', 'cli'],
              'src/core is the pure domain; it imports nothing above it.',
            ),
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
          message: 'Inject a Clock instead of calling Date.now() in src/core.',
        },
        {
          selector: "CallExpression[callee.property.name='getRandomValues']",
          message: 'Inject randomness instead of calling getRandomValues in src/core.',
        },
      ],
    },
  },
  {
    files: ['src/http/**/*.ts', 'src/fastly-api/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            nodeBuiltins,
            fastlyModules,
            upward(['platform', 'local-api', 'cli'], 'This folder may import only src/core.'),
          ],
        },
      ],
    },
  },
  {
    files: ['src/platform/fastly/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            nodeBuiltins,
            upward(['node', 'local-api', 'cli'], 'Edge code stays Node-free.'),
          ],
        },
      ],
    },
  },
  {
    files: ['src/local-api/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            fastlyModules,
            upward(['http', 'platform', 'cli'], 'The local Fastly API stands alone.'),
          ],
        },
      ],
    },
  },
  {
    // The Compute host runs the built wasm; it may use the Node edge's set-up code, never the app.
    files: ['src/local-compute/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            fastlyModules,
            upward(
              ['http', 'platform/fastly', 'cli'],
              'The Compute host runs the wasm, not the app.',
            ),
          ],
        },
      ],
    },
  },
  {
    files: ['src/platform/node/**/*.ts', 'src/cli/**/*.ts', 'scripts/**', 'test/**', 'bench/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [fastlyModules] }] },
  },
);
