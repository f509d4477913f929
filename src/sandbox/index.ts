import { Hono } from 'hono'

export const sandbox = new Hono<{ Bindings: Env }>()
