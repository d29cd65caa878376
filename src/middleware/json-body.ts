import type { MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import type { AppEnv } from '../app-env'
import type { Config } from '../config'
import { AppError } from '../errors'

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i

/**
 * A JSON body within a configured size: 415 for another media type, 413 past the limit (also for
 * chunked bodies that announce no length), 400 for JSON that does not parse.
 */
export const jsonBody = (limit: (config: Config) => number): MiddlewareHandler<AppEnv> => async (c, next) => {
  const mediaType = (c.req.header('content-type') ?? '').split(';')[0]!.trim()
  if (!JSON_MEDIA_TYPE.test(mediaType)) {
    throw new AppError(415, 'unsupported_media_type', 'Send the body as JSON with "Content-Type: application/json"')
  }
  const maxSize = limit(c.var.config)
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new AppError(413, 'payload_too_large', `The body is larger than ${maxSize} bytes`)
    },
  })(c, async () => {
    try {
      await c.req.json()
    } catch {
      throw new AppError(400, 'invalid_json', 'The body is not valid JSON')
    }
    await next()
  })
}
