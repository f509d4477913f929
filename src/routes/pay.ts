import { Hono } from 'hono'

export const pay = new Hono<{ Bindings: Env }>()
