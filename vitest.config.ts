import { cloudflareTest } from '@cloudflare/vitest-plugin'
import { defineConfig } from 'vitest/config'
import { TEST_BINDINGS, TWO_APPIDS_BINDINGS } from './test/support/bindings.ts'

// The files that run with two appids under the one mch_id (README "Development"): the appid tests,
// and the routes that place, sign and take notifications again.
const TWO_APPIDS_FILES = ['test/appids/**/*.test.ts', 'test/routes/pay.test.ts', 'test/routes/notify.test.ts']

// Three projects, one `npm test`: the suite inside workerd with one appid, the files above with
// two, and the tests that need Node (a browser, files on disk) in test/node/.
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
          exclude: ['test/node/**', 'test/appids/**'],
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
            miniflare: { bindings: TWO_APPIDS_BINDINGS },
          }),
        ],
        test: {
          name: 'two-appids',
          include: TWO_APPIDS_FILES,
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
          // Each browser test drives wrangler dev and Chromium: about 10 s alone, more beside the workerd suite.
          testTimeout: 60_000,
        },
      },
    ],
  },
})
