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
    /** Set by limitCaller when usage is kept: the tokens an answer spent, reported once or in parts. */
    recordSpent?: (spent: Usage) => void
  }
}
