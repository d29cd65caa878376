import { Hono } from 'hono/tiny'
import { validator } from 'hono/validator'
import type { AppEnv } from '../app-env'
import { AppError } from '../errors'
import { requireCaller } from '../middleware/auth'
import { jsonBody } from '../middleware/json-body'
import { parseAskBody } from './ask-body'
import { limitCaller } from './limit-caller'
import { streamAnswer } from './stream-answer'

export const askRoutes = new Hono<AppEnv>()

const validAsk = validator('json', (value, c) => {
  const parsed = parseAskBody(value, c.var.config)
  if (!parsed.ok) throw new AppError(400, 'invalid_request', parsed.message)
  return parsed.body
})

askRoutes.post('/v1/ask', requireCaller, limitCaller, jsonBody((config) => config.maxBodyBytes), validAsk, (c) => streamAnswer(c, c.req.valid('json'), 'sse'))
