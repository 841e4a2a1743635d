import { defineConfig } from 'vitest/config'

export default defineConfig({
  // graphql 16 has no "exports": Node loads its CJS build for the libraries, so our code must load the
  // same one (vite would pick index.mjs, and two graphql instances cannot share a schema)
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // each file starts its own server on its own database; two at a time fit two cores
    maxWorkers: 2,
  },
})
