/**
 * @module
 * Finds the tools the benchmark drives — wrangler's own esbuild, Miniflare and workerd — and
 * bundles project modules for use from Node. Everything resolves from wrangler's install, so the
 * bench measures the same runtime `wrangler dev` and `wrangler deploy` use.
 */
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/** The repository root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
/** wrangler's CLI entry, run with the current Node. */
export const WRANGLER_BIN = join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js')

const fromWrangler = createRequire(join(ROOT, 'node_modules', 'wrangler', 'package.json'))
const fromMiniflare = createRequire(fromWrangler.resolve('miniflare'))

/** wrangler's esbuild. */
export async function loadEsbuild() {
  return import(pathToFileURL(fromWrangler.resolve('esbuild')).href)
}

/** wrangler's Miniflare. */
export async function loadMiniflare() {
  return import(pathToFileURL(fromWrangler.resolve('miniflare')).href)
}

/** The workerd that wrangler's Miniflare runs: `{ version, compatibilityDate, binPath }`. */
export function workerdInfo() {
  const workerd = fromMiniflare('workerd')
  return { version: workerd.version, compatibilityDate: workerd.compatibilityDate, binPath: workerd.default }
}

/**
 * Bundles `src/wechat/xml.ts` and `src/wechat/sign.ts` into one ESM module and imports it, so the
 * bench runs the project's own codec and signing code unchanged (sign() needs only WebCrypto HMAC,
 * which Node has; MD5 is workerd-only and unused here).
 */
export async function loadProjectCodec() {
  const esbuild = await loadEsbuild()
  const result = await esbuild.build({
    stdin: {
      contents: "export * from './src/wechat/xml.ts'\nexport * from './src/wechat/sign.ts'\n",
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    write: false,
    logLevel: 'error',
  })
  const code = result.outputFiles[0].text
  return import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`)
}
