/**
 * @module
 * vitest globalSetup for test/bundle.test.ts. It runs in Node, not workerd, so it can build the
 * production bundle (`wrangler deploy --dry-run`, top-level config) once per run and hand its gzip
 * size to the test.
 */
import type { TestProject } from 'vitest/node'
import { measureBundle } from '../../bench/bundle.mjs'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Gzipped bytes (level 9) of the production index.js. */
    bundleGzipBytes: number
    /** The src/ folders and packages whose code is in the production bundle. */
    bundleSources: string[]
  }
}

/** Builds the bundle and provides `bundleGzipBytes`. */
export async function setup(project: TestProject): Promise<void> {
  const { gzipBytes, contributors } = await measureBundle()
  project.provide('bundleGzipBytes', gzipBytes)
  project.provide(
    'bundleSources',
    contributors.map(({ name }) => name),
  )
}
