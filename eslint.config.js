// Flat config for the whole workspace: typescript-eslint's type-checked rules for the apps,
// contracts and examples, eslint-plugin-vue for the console, and eslint-config-prettier last
// so that formatting is Prettier's alone. Each package runs `eslint .` from its folder.
import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'
import vue from 'eslint-plugin-vue'
import prettier from 'eslint-config-prettier'

/** Linted with type information. A new package goes here too. */
const TYPED = [
  'apps/**/*.{ts,vue}',
  'packages/contracts/**/*.ts',
  'packages/guard/**/*.ts',
  'packages/host-kit/**/*.ts',
  'examples/**/*.ts',
]

/**
 * Where `process.env` may be read: the API's config module and the entry points that hand
 * the environment to it, build tooling, and test/bench harnesses (which read their own
 * settings such as CHROMIUM_PATH or DATABASE_URL). Everything else takes a `Config`.
 */
const PROCESS_ENV_READERS = [
  'apps/api/src/config.ts',
  'apps/api/src/server.ts',
  'apps/api/src/audit/cli.ts',
  'apps/api/src/audit/migrate.ts',
  'examples/audit-export/src/main.ts',
  'examples/customer-app/src/main.ts',
  'apps/web/vite.config.ts',
  'examples/customer-app/vite.config.ts',
  'scripts/**',
  '**/bench/**',
  '**/test/**',
  '**/*.test.ts',
]

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/.turbo/**',
      '**/coverage/**',
      '**/test-results/**',
      '**/drizzle/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // clerk-local stays on the untyped preset: it is a test double of Clerk's wire format whose
  // handlers read untyped JSON bodies and build loose JSON answers on purpose (the OpenAPI
  // tests are its type check), so the no-unsafe-* rules would flag its whole purpose.
  ...tseslint.configs.recommendedTypeChecked.map((config) => ({ ...config, files: TYPED })),
  {
    files: TYPED,
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
        extraFileExtensions: ['.vue'],
      },
    },
  },
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      'vue/multi-word-component-names': 'off',
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message:
            'Read settings through the config module (apps/api/src/config.ts), not process.env.',
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.type='MetaProperty'][property.name='env']",
          message: "Read the console's settings from apps/web/src/env.ts, not import.meta.env.",
        },
      ],
    },
  },
  {
    // As @vue/eslint-config-typescript does: typescript-eslint sees a `.vue` import through a
    // fallback type with `any`s, so these rules would fire on idiomatic component code
    // (`createApp(App)`, `ref<InstanceType<typeof C>>`, mounting in tests). Only where
    // components are used; the console's other modules keep them.
    files: ['apps/web/src/**/*.vue', 'apps/web/src/main.ts', 'apps/web/src/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-redundant-type-constituents': 'off',
    },
  },
  {
    // Test doubles implement async interfaces; a throw inside must still become a rejection.
    files: ['**/testing/**', '**/test/**', '**/*.test.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  { files: PROCESS_ENV_READERS, rules: { 'no-restricted-properties': 'off' } },
  { files: ['apps/web/src/env.ts'], rules: { 'no-restricted-syntax': 'off' } },
  prettier,
)
