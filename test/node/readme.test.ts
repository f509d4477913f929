/// <reference types="node" />
/** The README's code that shops copy is the code the service and its tests run. */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '..', '..')

/** The text of `export async function <name>(…) {…}` in a TypeScript source. */
function functionText(source: string, name: string): string {
  const start = source.indexOf(`export async function ${name}(`)
  expect(start, `${name} not found`).toBeGreaterThanOrEqual(0)
  return source.slice(start, source.indexOf('\n}\n', start) + 2)
}

describe('README', () => {
  it('shows verifyRelay exactly as src/relay.ts has it', async () => {
    const [readme, relay] = await Promise.all([
      readFile(join(ROOT, 'README.md'), 'utf8'),
      readFile(join(ROOT, 'src', 'relay.ts'), 'utf8'),
    ])
    const shown = /```ts\n(export async function verifyRelay\([\s\S]*?\n\})\n```/.exec(readme)?.[1]
    expect(shown, 'the README has no verifyRelay example').toBeDefined()
    expect(shown).toBe(functionText(relay, 'verifyRelay'))
  })
})
