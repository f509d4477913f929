import { Hono } from 'hono'

export const notify = new Hono<{ Bindings: Env }>()
