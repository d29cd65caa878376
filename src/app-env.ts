import type { Bindings, Config } from './config'
import type { RequestLog } from './request-log'

export type AppEnv = {
  Bindings: Bindings
  Variables: { requestId: string; startedAt: number; config: Config; log: RequestLog; errorFormat?: 'json' | 'text' }
}
