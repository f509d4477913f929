import { cloudflareTest } from '@cloudflare/vitest-plugin'
import { defineConfig } from 'vitest/config'
import { TEST_BINDINGS } from './test/support/bindings'

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: './wrangler.toml', environment: 'dev' },
      remoteBindings: false,
      miniflare: { bindings: TEST_BINDINGS },
    }),
  ],
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/support/setup.ts'],
    isolate: false,
    // Runs in Node: builds the production bundle once for test/bundle.test.ts.
    globalSetup: ['test/support/bundle-setup.ts'],
  },
})
