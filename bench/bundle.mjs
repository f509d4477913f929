/**
 * @module
 * Part 3: the size of the production bundle — what `wrangler deploy --dry-run` emits for the
 * top-level (production) config of wrangler.toml, gzipped here at level 9, beside wrangler's own
 * `Total Upload … / gzip …` line. Shared by `npm run bench` and the bundle-budget test.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify, stripVTControlCharacters } from 'node:util'
import { gzipSync } from 'node:zlib'
import { ROOT, WRANGLER_BIN } from './lib/tools.mjs'

/** The budget: the gzipped production bundle must stay at or under 40 KB. */
export const BUNDLE_BUDGET_BYTES = 40 * 1024

const run = promisify(execFile)

/**
 * Builds the production bundle into a temporary directory and measures it.
 * `contributors` lists where the bytes of the emitted (minified) index.js come from, by package or src/ folder.
 */
export async function measureBundle() {
  const outdir = await mkdtemp(join(tmpdir(), 'wxpayserver-bundle-'))
  try {
    // `--env=` selects the top-level environment explicitly: production, without the sandbox.
    const metafile = join(outdir, 'meta.json')
    const args = [WRANGLER_BIN, 'deploy', '--dry-run', '--env=', '--outdir', outdir, '--metafile', metafile]
    const { stdout, stderr } = await run(nodeBinary(), args, { cwd: ROOT, env: wranglerEnv(), maxBuffer: 16 << 20 })
    const code = await readFile(join(outdir, 'index.js'))
    const output = stripVTControlCharacters(`${stdout}\n${stderr}`)
    return {
      rawBytes: code.byteLength,
      gzipBytes: gzipSync(code, { level: 9 }).byteLength,
      gzipLevel: 9,
      wranglerLine: /Total Upload:.*$/m.exec(output)?.[0]?.trim(),
      contributors: contributors(JSON.parse(await readFile(metafile, 'utf8'))),
    }
  } finally {
    await rm(outdir, { recursive: true, force: true })
  }
}

/** Bytes in the emitted index.js per npm package or src/ folder, largest first (from esbuild's metafile). */
function contributors(meta) {
  const output = Object.values(meta.outputs).find((entry) => entry.entryPoint)
  const totals = new Map()
  for (const [path, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const group =
      /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ??
      /^(src\/[^/]+\/)/.exec(path)?.[1] ??
      path.replace(/^.*\/src\//, 'src/')
    totals.set(group, (totals.get(group) ?? 0) + bytesInOutput)
  }
  return [...totals].sort((a, b) => b[1] - a[1]).map(([name, bytes]) => ({ name, bytes }))
}

/** wrangler needs Node ≥ 22.12: this Node if it qualifies, else `node` from PATH (with ~/.node22 first). */
export function nodeBinary() {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
  return major > 22 || (major === 22 && minor >= 12) ? process.execPath : 'node'
}

/** The environment for every wrangler child: no telemetry, no network look-ups, Node 22 on PATH. */
export function wranglerEnv() {
  const node22 = join(homedir(), '.node22', 'node_modules', '.bin')
  const path = existsSync(node22) ? `${node22}:${process.env.PATH ?? ''}` : (process.env.PATH ?? '')
  return { ...process.env, PATH: path, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' }
}
