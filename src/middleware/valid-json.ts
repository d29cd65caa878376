import { validator } from 'hono/validator'
import type * as z from 'zod/mini'
import { AppError } from '../errors'
import { describeFirstIssue } from '../first-issue'

/**
 * Hono's JSON validator with a zod schema: the parsed value, or `400 invalid_request` naming the
 * first problem (`Invalid overlay: tables.stations: …`). `what` names the body in that message.
 */
export function validJson<T extends z.ZodMiniType>(schema: T, what: string) {
  return validator('json', (value): z.output<T> => {
    const parsed = schema.safeParse(value)
    if (!parsed.success) throw new AppError(400, 'invalid_request', `Invalid ${what}: ${describeFirstIssue(parsed.error)}`)
    return parsed.data
  })
}
