// The linter (npm run lint): the rules that matter most for this code, each
// passing on all of it: every promise awaited or handled (node:test's test()
// and describe() excepted: the runner awaits them), no promise where a plain
// value is expected, no unused names, type-only imports marked, === only.
// typescript-eslint's recommended sets are not on yet: see NOTE-house.md for
// what they find today.
import tseslint from 'typescript-eslint';

const nodeTest = { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] };

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '**/*.gen.ts', '.demo-sandbox/'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser, parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { '@typescript-eslint': tseslint.plugin },
    // The disable comments already in the code name rules not on yet.
    linterOptions: { reportUnusedDisableDirectives: 'off' },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [nodeTest] }],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: ['**/*.mjs'],
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
);
