/**
 * How a shop's backend checks a relayed notification: the tests use the very function the README
 * shows and the stand-in shop runs (`verifyRelay` in src/relay.ts), here for one secret.
 */
import { verifyRelay as verify } from '../../src/relay'

export function verifyRelay(rawBody: string, header: string | null, secret: string): Promise<boolean> {
  return verify(rawBody, header, [secret])
}
