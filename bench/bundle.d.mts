/** Types for bench/bundle.mjs, which the bundle-budget test's globalSetup imports from TypeScript. */

/** The budget: the gzipped production bundle must stay at or under 40 KB. */
export declare const BUNDLE_BUDGET_BYTES: number

export type BundleSize = {
  /** Bytes of the index.js that `wrangler deploy --dry-run` emits for the production config. */
  rawBytes: number
  /** The same file gzipped by node:zlib. */
  gzipBytes: number
  gzipLevel: number
  /** wrangler's own `Total Upload: … / gzip: …` line. */
  wranglerLine: string | undefined
  /** Bytes in the emitted (minified) index.js per npm package or src/ folder, largest first. */
  contributors: { name: string; bytes: number }[]
}

/** Builds the production bundle into a temporary directory and measures it. */
export declare function measureBundle(): Promise<BundleSize>

/** A Node that wrangler accepts (≥ 22.12). */
export declare function nodeBinary(): string

/** The environment for every wrangler child process. */
export declare function wranglerEnv(): NodeJS.ProcessEnv
