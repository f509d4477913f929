/**
 * @module
 * The whole service on one screen: body limit, bearer auth, the /v1/pay routes, and one error
 * handler that turns every failure into JSON. The sandbox is not here: only the dev entry
 * (src/dev.ts) mounts it, so the production bundle never contains it.
 */

import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { HTTPException } from 'hono/http-exception'
import { bearer } from './auth'
import { describe, fail, PayError } from './errors'
import { admin } from './routes/admin'
import { home } from './routes/home'
import { notify } from './routes/notify'
import { pay } from './routes/pay'
import { refunds } from './routes/refund'

/** Request bodies above this are refused with `wxPayError.tooLarge`; real ones are under 8 KB. */
export const MAX_BODY_BYTES = 64 * 1024

const PAY_ROUTES = [
  '/v1/pay/params',
  '/v1/pay/unified',
  '/v1/pay/queryOrder',
  '/v1/pay/closeOrder',
  '/v1/pay/refund',
  '/v1/pay/refundQuery',
  '/v1/pay/redeliver',
  '/v1/pay/reconciliation',
]

export const app = new Hono<{ Bindings: Env }>()

app.route('/', home)

// WeChat's callbacks authenticate by their signature (or encryption), never a bearer token.
const WECHAT_CALLBACKS = ['/v1/pay/notify', '/v1/pay/notify/refund']

// Before auth: any method but POST is 405 on every route, whoever asks (OPTIONS included).
for (const path of [...PAY_ROUTES, ...WECHAT_CALLBACKS]) {
  app.use(path, async (c, next) => {
    if (c.req.method !== 'POST') throw fail('methodNotAllowed', `${path} accepts POST only`)
    await next()
  })
}

// Every path under /v1/pay but WeChat's callbacks needs a token, so a new route is protected by
// default (src/auth.ts: scopes). c.req.path is the (decoded) path the router matches, so the
// exclusion is exactly those two routes.
const auth = bearer()
app.use('/v1/pay/*', (c, next) => (WECHAT_CALLBACKS.includes(c.req.path) ? next() : auth(c, next)))

app.route('/v1/pay/notify', notify)

for (const path of PAY_ROUTES) {
  app.use(
    path,
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw fail('tooLarge', `request body is larger than ${MAX_BODY_BYTES} bytes`)
      },
    }),
  )
}
const api = app.route('/v1/pay', pay).route('/v1/pay', refunds).route('/v1/pay', admin)
/** The API's routes and their fields, for hono's typed client: `hc<AppType>('https://pay.example.com')`. */
export type AppType = typeof api

app.notFound((c) => {
  const { status, body } = describe({ kind: 'notFound', message: `no route for ${c.req.method} ${c.req.path}` })
  return c.json(body, status)
})

app.onError((err, c) => {
  const failure = toFailure(err)
  if (failure.kind === 'internal' || failure.kind === 'config') {
    console.error(
      JSON.stringify({ event: 'request_failed', path: c.req.path, kind: failure.kind, error: failure.message }),
    )
  }
  const { status, body } = describe(failure)
  return c.json(body, status)
})

function toFailure(err: Error) {
  if (err instanceof PayError) return err.failure
  if (err instanceof HTTPException) {
    if (err.status === 413)
      return { kind: 'tooLarge' as const, message: `request body is larger than ${MAX_BODY_BYTES} bytes` }
    if (err.status === 400)
      return { kind: 'params' as const, message: 'request body could not be parsed: send form fields or a JSON object' }
  }
  // Unexpected: say nothing about it to the caller; the log line keeps only its name.
  return { kind: 'internal' as const, message: `internal error (${err.name})` }
}
