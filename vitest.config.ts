import { cloudflareTest } from '@cloudflare/vitest-plugin'
import { defineConfig } from 'vitest/config'
import { ONE_APPID_BINDINGS, TEST_BINDINGS } from './test/support/bindings.ts'

// The files that run again with one appid (README "Development"): the routes that place, sign and
// take notifications, and the one-appid tests.
const ONE_APPID_FILES = ['test/one-appid/**/*.test.ts', 'test/routes/pay.test.ts', 'test/routes/notify.test.ts']

// Three projects, one `npm test`: the suite inside workerd with two appids, the files above again
// with one, and the tests that need Node (a browser, files on disk) in test/node/.
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
          exclude: ['test/node/**', 'test/one-appid/**'],
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
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml', environment: 'dev' },
            remoteBindings: false,
            miniflare: { bindings: ONE_APPID_BINDINGS },
          }),
        ],
        test: {
          name: 'one-appid',
          include: ONE_APPID_FILES,
          testTimeout: 20_000,
          setupFiles: ['test/support/setup.ts'],
          isolate: false,
        },
      },
      {
        test: {
          name: 'node',
          include: ['test/node/**/*.test.ts'],
          environment: 'node',
          testTimeout: 30_000,
        },
      },
    ],
  },
})
