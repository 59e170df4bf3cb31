// Lint rules that hold the architecture in place (STYLE.md): domain code is pure, and the Nx project
// tags decide which project may depend on which.
const nx = require('@nx/eslint-plugin');
const tseslint = require('typescript-eslint');

const INFRASTRUCTURE_MODULES = ['@nestjs/*', 'kafkajs', '@kafkajs/*', 'pg', 'pg-*', 'ioredis', 'node-pg-migrate', 'fastify', '@fastify/*', '@opentelemetry/*', 'pino', '@kubernetes/*'];

module.exports = [
  { ignores: ['**/node_modules/**', '**/dist/**', 'test-results/**', '.nx/**', 'deploy/**', 'coverage/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'error',
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          depConstraints: [
            { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'layer:contracts', onlyDependOnLibsWithTags: ['layer:contracts'] },
          ],
        },
      ],
    },
  },
  {
    // Deciders and domain types: no frameworks, no I/O clients; time and ids come in as arguments.
    files: ['services/*/src/*/domain/**/*.ts', 'libs/domain/src/**/*.ts', 'libs/contracts/src/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: INFRASTRUCTURE_MODULES, message: 'Domain code is pure: no framework, broker, database or telemetry imports (STYLE.md).' },
            { group: ['**/infrastructure/**'], message: 'Domain code must not import infrastructure.' },
            { regex: '^\\.\\./(?!.*\\bdomain/)', message: 'Domain code imports only domain code: not its feature\'s handlers, controllers or stores.' },
            { group: ['@flotilla/*', '!@flotilla/contracts', '!@flotilla/domain'], message: 'Domain code may use only @flotilla/contracts and @flotilla/domain among the libraries.' },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Pass the time in: domain code never reads the clock.' },
        { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'Pass the time in: domain code never reads the clock.' },
        { selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']", message: 'Pass randomness in: domain code is deterministic.' },
      ],
    },
  },
  {
    // Application code of a feature (its handlers, command services, loops, controllers: the files at the
    // feature's top level) depends on the interfaces it declares; infrastructure implements them and the
    // service's composition root (main.ts) wires the two together.
    files: ['services/*/src/*/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/infrastructure/**', '**/infrastructure'], message: 'Application code depends on the interfaces it declares, not on infrastructure (STYLE.md): declare a port here and implement it in infrastructure/.' },
            { group: ['pg', 'pg-*', 'kafkajs', '@kafkajs/*', 'ioredis', 'node-pg-migrate', '@kubernetes/*'], message: 'Application code does not talk to databases, brokers or clusters directly: that is infrastructure.' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly', console: 'readonly', jest: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off', 'no-console': 'off' },
  },
  {
    files: ['**/*.spec.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts', 'libs/testing/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
];
