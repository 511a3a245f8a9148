// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.data/**', 'coverage/**', '.dependency-cruiser.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Read the environment only in src/config.ts (and entry points); pass Config down.',
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.property.name='transition']",
          message:
            'Case statuses change only through the named operations of src/cases/lifecycle.ts (CaseLifecycle), never by CaseStore.transition directly.',
        },
      ],
    },
  },
  {
    // The lifecycle is the one caller of the compare-and-set primitive, which src/cases/store.ts defines.
    // Test fixtures may put a record straight into any state through the primitive.
    files: ['src/cases/lifecycle.ts', 'src/cases/store.ts', 'test/**'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    // Entry points, scripts, tests and config are where the environment is read.
    files: [
      'src/config.ts',
      'src/**/main.ts',
      'services/**/main.ts',
      'workers/*.ts',
      'scripts/**',
      'bench/**',
      'test/**',
      'vitest.config.ts',
    ],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['test/**'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off', '@typescript-eslint/unbound-method': 'off' },
  },
  {
    // Plain JavaScript outside the TypeScript project: this file and the `co` launcher (bin/co.js).
    files: ['eslint.config.js', 'bin/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // The review UI's browser script: plain JavaScript, no build step.
    files: ['src/server/review-ui/client/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'script',
      globals: {
        window: 'readonly',
        document: 'readonly',
        fetch: 'readonly',
        setTimeout: 'readonly',
        setInterval: 'readonly',
        HTMLElement: 'readonly',
        URL: 'readonly',
      },
    },
  },
);
