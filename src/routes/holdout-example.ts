import type { Context } from 'hono'
import { timingSafeEqual } from 'hono/utils/buffer'
import type { AppEnv } from '../app-env'
import { AppError } from '../errors'

/** The example an evaluation holds out of this answer (`eval:live --approved`). */
export const HOLDOUT_HEADER = 'x-txt2sql-holdout-example'
/** The admin token that allows it: beside the caller's own `Authorization`, which says who asks. */
export const HOLDOUT_ADMIN_HEADER = 'x-txt2sql-admin-token'

/**
 * An approved example left out of the prompt and out of verified answers, so an evaluation asks the
 * model the example's question without showing it the answer. Only an admin may ask for it (the
 * ADMIN_TOKEN in its own header, compared in constant time), since it changes what the service
 * answers; the caller's own credential still decides the role the answer is for.
 */
export async function holdoutExample(c: Context<AppEnv>): Promise<string | undefined> {
  const id = c.req.header(HOLDOUT_HEADER)
  if (id === undefined) return undefined
  const token = c.var.config.adminToken
  const given = c.req.header(HOLDOUT_ADMIN_HEADER)
  if (!token || given === undefined || !(await timingSafeEqual(given, token))) {
    throw new AppError(401, 'unauthorized', `${HOLDOUT_HEADER} is an admin option: send the admin token in ${HOLDOUT_ADMIN_HEADER}`)
  }
  if (!/^[1-9][0-9]{0,17}$/.test(id)) throw new AppError(400, 'invalid_request', `${HOLDOUT_HEADER} is an example id (a positive integer)`)
  return id
}
