import type { AnswerEvent, ResultCode } from './events'

/**
 * The `result` of an answer whose SQL was not run although the caller asked for the rows
 * (`"execute": true`): a client that asked for rows always gets one `result` event, and this one
 * says why there are none — `code` for programs, `error` for people.
 */
export function notRun(code: Exclude<ResultCode, 'query_failed' | 'execution_refused'>, why: string): Extract<AnswerEvent, { event: 'result' }> {
  return { event: 'result', data: { ok: false, code, error: `not run: ${why}` } }
}
