import { cloudflareTest } from '@cloudflare/vitest-plugin'
import { defineConfig } from 'vitest/config'
import { TEST_BINDINGS, TWO_APPIDS_BINDINGS } from './test/support/bindings.ts'

// The files that run with two appids under the one mch_id (README "Development"): the appid tests,
// and the routes that place, sign and take notifications again.
const TWO_APPIDS_FILES = ['test/appids/**/*.test.ts', 'test/routes/pay.test.ts', 'test/routes/notify.test.ts']

// The tests that go through the sandbox and differ by API version: they run again under
// WXPAY_API_VERSION=v3 (STYLE.md principle 14: the same files, the version from `env`). Tests that
// build v2 XML by hand (notify.test.ts and the like) test the v2 protocol
// and run under v2 only; v3's own protocol tests are in test/wechat/v3 and test/sandbox/v3.
const BY_VERSION = [
  'test/ledger/concurrency.test.ts',
  'test/ledger/recovery.test.ts',
  'test/routes/pay.test.ts',
  'test/routes/refund.test.ts',
  'test/ledger/reconcile.test.ts',
]
// The routes' v3 side itself (signed JSON notifications): under v3 only.
const V3_ONLY = ['test/routes/notify-v3.test.ts']

// Four projects, one `npm test`: the suite inside workerd with one appid, the files above with
// two, the version-dependent files under API v3, and the tests that need Node (a browser, files on
// disk) in test/node/.
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
          exclude: ['test/node/**', 'test/appids/**', ...V3_ONLY],
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
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml', environment: 'dev' },
            remoteBindings: false,
            miniflare: { bindings: { ...TEST_BINDINGS, WXPAY_API_VERSION: 'v3' } },
          }),
        ],
        test: {
          name: 'workerd-v3',
          include: [...BY_VERSION, ...V3_ONLY],
          setupFiles: ['test/support/setup.ts'],
          isolate: false,
          testTimeout: 20_000,
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
