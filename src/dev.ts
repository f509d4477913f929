/**
 * @module
 * Development entry (`[env.dev] main` in wrangler.toml, and the tests): the production service plus
 * the built-in WeChat Pay sandbox at /sandbox, answered only when WXPAY_SANDBOX=on. Production's
 * entry (src/index.ts) never imports this file, so its bundle has no sandbox code.
 */
import { app } from './app'
import { loadConfig } from './config'
import { fail } from './errors'
import { sandbox } from './sandbox'

app.use('/sandbox/*', async (c, next) => {
  if (!loadConfig(c.env).sandbox) throw fail('notFound', `no route for ${c.req.method} ${c.req.path}`)
  await next()
})
app.route('/sandbox', sandbox)

export * from './index'
export { default } from './index'
