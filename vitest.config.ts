import { fileURLToPath } from 'node:url'
import { cloudflareTest } from '@cloudflare/vitest-plugin'
import { defineConfig } from 'vitest/config'
import { testHyperdriveBinding } from './test/setup/test-hyperdrives.ts'

/**
 * The suites that talk to the business database. They run twice: the Neon driver through the
 * local WebSocket relay (the `workers` project), and node-postgres through real Hyperdrive bindings
 * (`workers-hyperdrive`; Miniflare's, which connect straight to the database as `wrangler dev`'s do).
 */
const DATABASE_SUITES = ['test/hostile-gate.test.ts', 'test/db-session.test.ts', 'test/sql-guard.test.ts', 'test/roles.test.ts', 'test/pooled-session.test.ts', 'test/schema-refresh.test.ts', 'test/examples-feedback.test.ts', 'test/examples-model.test.ts', 'test/verified-answers.test.ts', 'test/answer-cache.test.ts', 'test/ask-checked.test.ts', 'test/sql-route.test.ts', 'test/admin-sql.test.ts']

export default defineConfig({
  test: {
    projects: [
      {
        // Unit, route and database tests: inside workerd, with real local KV.
        plugins: [cloudflareTest({ wrangler: { configPath: './wrangler.toml' } })],
        test: {
          name: 'workers',
          include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
          exclude: ['test/node/**'],
          globalSetup: ['./test/global-setup.ts'],
          testTimeout: 20_000,
        },
      },
      {
        // The database suites again, the Hyperdrive way: one binding per test database
        // (test/support/app.ts, dbEnv), whose origin the global setup started.
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: { hyperdrives: Object.fromEntries(Object.entries(inject('databases').urls).map(([name, url]) => [testHyperdriveBinding(name), url])) },
          })),
        ],
        // node-postgres picks its socket with require('pg-cloudflare'), which the pool resolves
        // without the `workerd` condition wrangler's bundler uses (to an empty module): name the
        // Workers build as wrangler would pick it.
        test: {
          name: 'workers-hyperdrive',
          include: DATABASE_SUITES,
          globalSetup: ['./test/global-setup.ts'],
          provide: { databaseWay: 'hyperdrive' },
          testTimeout: 20_000,
        },
      },
      {
        // End-to-end tests as a user runs the service: `npm start` (wrangler dev) and real clients.
        // Those that import src/ directly get the SQL parser's .wasm as bytes, as eval:live's bundle does.
        plugins: [wasmAsBytes()],
        test: {
          name: 'node',
          include: ['test/node/**/*.test.ts'],
          environment: 'node',
          // Through vite, so its .wasm import reaches the plugin above instead of Node's loader.
          server: { deps: { inline: ['libpg-query'] } },
          testTimeout: 60_000,
          hookTimeout: 90_000,
          fileParallelism: false,
        },
      },
    ],
  },
})

/** A `.wasm` import in Node (src/sql/admission/pg-parser.ts takes bytes or a compiled module). */
function wasmAsBytes() {
  return {
    name: 'wasm-as-bytes',
    enforce: 'pre' as const,
    load(id: string) {
      if (!id.endsWith('.wasm')) return null
      return `import { readFileSync } from 'node:fs'\nexport default new Uint8Array(readFileSync(${JSON.stringify(id)}))\n`
    },
  }
}
