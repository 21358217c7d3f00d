// ESLint for the whole workspace; `npm test` runs it (scripts/check.ts) after the type checks.
// A small rule set: ESLint's and typescript-eslint's recommended rules, plus the three
// type-aware rules that catch what the compiler does not - a promise nobody awaits, a promise
// where a callback's return value is ignored, an await on something that is not a promise.
// Type information comes from each file's nearest tsconfig (the root one, or the web UI's).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '.data/**', '.bench/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      globals: { ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's test() and describe() return promises the runner itself awaits.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Input validation matches control characters on purpose.
      'no-control-regex': 'off',
      'no-empty': ['error', { allowEmptyCatch: true }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // `let [a, b] = …` where only one of them changes stays one declaration.
      'prefer-const': ['error', { destructuring: 'all' }],
    },
  },
  {
    // Plain JavaScript has no tsconfig: no type-aware rules there.
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Code that runs in the browser.
    files: ['apps/dashboard/web/src/**', 'apps/collector/snippet/src/**', 'apps/dashboard/demo/**/*.js'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // The snippet is written for size (its budget is 1.5 KB gzipped): `a && b()`, `==` and a
    // bare property read that throws when storage is blocked are deliberate.
    files: ['apps/collector/snippet/src/**/*.js'],
    rules: { '@typescript-eslint/no-unused-expressions': 'off', eqeqeq: 'off' },
  },
);
