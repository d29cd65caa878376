import type { MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import type { AppEnv } from '../app-env'
import type { Config } from '../config'
import { AppError } from '../errors'

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i
const CSV_MEDIA_TYPE = /^(text\/csv|application\/csv)$/i

export function mediaType(header: string | undefined): 'json' | 'csv' | 'other' {
  const type = (header ?? '').split(';')[0]!.trim()
  return JSON_MEDIA_TYPE.test(type) ? 'json' : CSV_MEDIA_TYPE.test(type) ? 'csv' : 'other'
}

/**
 * A body of an accepted media type within a configured size: 415 for another type, 413 past the
 * limit (also for chunked bodies that announce no length), 400 for JSON that does not parse.
 */
export const acceptBody =
  (limit: (config: Config) => number, accepted: ('json' | 'csv')[] = ['json']): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const type = mediaType(c.req.header('content-type'))
    if (type === 'other' || !accepted.includes(type)) {
      const names = accepted.map((t) => (t === 'json' ? 'application/json' : 'text/csv')).join(' or ')
      throw new AppError(415, 'unsupported_media_type', `Send the body as ${accepted.map((t) => t.toUpperCase()).join(' or ')} with "Content-Type: ${names}"`)
    }
    const maxSize = limit(c.var.config)
    return bodyLimit({
      maxSize,
      onError: () => {
        throw new AppError(413, 'payload_too_large', `The body is larger than ${maxSize} bytes`)
      },
    })(c, async () => {
      if (type === 'json') {
        try {
          await c.req.json()
        } catch {
          throw new AppError(400, 'invalid_json', 'The body is not valid JSON')
        }
      } else await c.req.text()
      await next()
    })
  }

export const jsonBody = (limit: (config: Config) => number): MiddlewareHandler<AppEnv> => acceptBody(limit, ['json'])
