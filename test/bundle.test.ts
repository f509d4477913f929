/**
 * The bundle budget: every location cold-starts the Worker, so its size is a cost users pay.
 * test/support/bundle-setup.ts builds the production bundle in Node and provides its gzip size.
 */
import { describe, expect, inject, it } from 'vitest'

// 40 KB held the four order routes; the ledger, refunds, recovery, the daily bill and the OpenAPI
// document (zod's JSON Schema conversion) took it to about 53 KB. (hono/tiny would save 2.5 KB but
// its router costs about 0.4 ms a request, measured with npm run bench.) The budget keeps a little
// headroom and catches accidents, such as a namespace re-export pulling in every zod locale (147 KB once).
// The ledger's one transition function, replies matched to what was asked and the refund hold's
// release took it to 57.5 KB; the routes' validator to 60.1 KB; the reconciliation as two Workflow
// classes (diff, checks, child batches, meter) to 63.7 KB; WeChat Pay API v3 (RSA signing and
// verification, AES-GCM, platform certificates, the v3 JSON mappings) to 74.1 KB.
const BUDGET_BYTES = 77 * 1024

describe('production bundle', () => {
  it('stays within 77 KB gzipped', () => {
    const gzipBytes = inject('bundleGzipBytes')
    expect(gzipBytes, 'the dry-run build produced no bundle').toBeGreaterThan(0)
    expect(gzipBytes, `gzipped index.js is ${(gzipBytes / 1024).toFixed(2)} KB`).toBeLessThanOrEqual(BUDGET_BYTES)
  })

  it('holds no sandbox code: only the dev entry imports src/sandbox', () => {
    const sources = inject('bundleSources')
    expect(sources).toContain('src/routes/')
    expect(sources.filter((name) => name.includes('sandbox'))).toEqual([])
  })
})
