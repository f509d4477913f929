/**
 * @module
 * `GET /reference`: the API reference rendered from /openapi.json with Scalar (the Hono ecosystem's
 * renderer), in dev only. The page loads Scalar's script from its CDN, so it needs a network.
 */
import { Scalar } from '@scalar/hono-api-reference'
import { Hono } from 'hono'
import type { SandboxEnv } from './http'

export const reference = new Hono<SandboxEnv>()

reference.get('/reference', Scalar({ url: '/openapi.json', pageTitle: 'wxpayserver API reference' }))
