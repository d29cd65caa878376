import { cloudflareTest } from '@cloudflare/vitest-plugin'
import { defineConfig } from 'vitest/config'

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
        // End-to-end tests as a user runs the service: `npm start` (wrangler dev) and real clients.
        test: {
          name: 'node',
          include: ['test/node/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 90_000,
          fileParallelism: false,
        },
      },
    ],
  },
})
