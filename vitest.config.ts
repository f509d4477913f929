import { cloudflareTest } from '@cloudflare/vitest-plugin'
import { defineConfig } from 'vitest/config'
import { TEST_BINDINGS } from './test/support/bindings.ts'

// Two projects, one `npm test`: the suite inside workerd, and the tests that need Node (a browser,
// files on disk) in test/node/.
export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml', environment: 'dev' },
            remoteBindings: false,
            miniflare: { bindings: TEST_BINDINGS },
          }),
        ],
        test: {
          name: 'workerd',
          include: ['test/**/*.test.ts'],
          exclude: ['test/node/**'],
          setupFiles: ['test/support/setup.ts'],
          isolate: false,
          // The races (50 rounds each) take about 1 s alone and several times that on a loaded 2-core
          // machine; a hang still fails.
          testTimeout: 20_000,
          // Runs in Node: builds the production bundle once for test/bundle.test.ts.
          globalSetup: ['test/support/bundle-setup.ts'],
        },
      },
      {
        test: {
          name: 'node',
          include: ['test/node/**/*.test.ts'],
          environment: 'node',
          // Each browser test drives wrangler dev and Chromium: about 10 s alone, more beside the workerd suite.
          testTimeout: 60_000,
        },
      },
    ],
  },
})
