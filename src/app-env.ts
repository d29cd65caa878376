import type { JWTPayload } from 'hono/utils/jwt/types'
import type { Caller } from './auth/caller'
import type { Bindings, Config } from './config'
import type { RequestLog } from './request-log'
import type { Usage } from './stream/events'

export type AppEnv = {
  Bindings: Bindings
  Variables: {
    requestId: string
    startedAt: number
    config: Config
    log: RequestLog
    errorFormat?: 'json' | 'text'
    /** Set by requireCaller on the callers' routes (src/middleware/auth.ts). */
    caller: Caller
    /** Set by requireAdmin on the admin routes: who acts (`admin-token`, or a person's JWT `sub`; src/middleware/auth.ts). */
    admin?: { id: string }
    /** Set by Hono's jwt/jwk middleware when it verified a token (src/auth/verify-jwt.ts). */
    jwtPayload?: JWTPayload
    /** Set by limitCaller when usage is kept: the tokens an answer spent, reported once or in parts. */
    recordSpent?: (spent: Usage) => void
  }
}
