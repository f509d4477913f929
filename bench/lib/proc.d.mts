/** Types for bench/lib/proc.mjs, which the browser test imports from TypeScript. */

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export declare function freePort(): Promise<number>

/** A TCP port on 127.0.0.1 in `from`..`to` (inclusive), not one of `taken`, that was free a moment ago. */
export declare function freePortIn(from: number, to: number, taken?: number[]): Promise<number>

/** Starts `wrangler dev <args>` in its own process group and waits until `readyUrl` answers. */
export declare function startWrangler(
  args: string[],
  options: { readyUrl: URL | string; timeoutMs?: number },
): Promise<{ stop: () => Promise<void> }>
