import * as z from 'zod/mini'
import '../zod-locale'
import { AppError } from '../errors'

// Native: {"code","message","request_id"}; compatible mode: {"error":{"message","type","code"}}.
const RefusalSchema = z.union([
  z.object({ error: z.object({ code: z.nullish(z.unknown()), message: z.nullish(z.string()), type: z.nullish(z.string()) }) }),
  z.object({ code: z.nullish(z.string()), message: z.nullish(z.string()) }),
])

export type UpstreamRefusal = { code: string | undefined; message: string | undefined }

export function parseRefusal(text: string): UpstreamRefusal {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return { code: undefined, message: undefined }
  }
  const parsed = RefusalSchema.safeParse(json)
  if (!parsed.success) return { code: undefined, message: undefined }
  const v = parsed.data
  if ('error' in v) {
    const code = v.error.code ?? v.error.type
    return { code: code == null ? undefined : String(code), message: v.error.message ?? undefined }
  }
  return { code: v.code ?? undefined, message: v.message ?? undefined }
}

/**
 * Maps DashScope's refusal before streaming to our error. Upstream's own words travel in the
 * message (they never contain our key); the code is ours and stable.
 */
export function upstreamRefusalError(status: number, refusal: UpstreamRefusal, retryAfter: string | null): AppError {
  const detail = [refusal.code, refusal.message].filter(Boolean).join(': ') || `HTTP ${status}`
  if (status === 429 || refusal.code?.startsWith('Throttling')) {
    return new AppError(429, 'upstream_throttled', `DashScope is throttling requests (${detail})`, {
      retryable: true,
      retryAfterSeconds: parseRetryAfter(retryAfter),
    })
  }
  if (status === 401 || status === 403) {
    return new AppError(502, 'upstream_auth_failed', `DashScope refused the configured API key (${detail})`)
  }
  if (status === 404 || refusal.code === 'ModelNotFound' || refusal.code === 'model_not_found') {
    return new AppError(502, 'upstream_model_not_found', `DashScope does not know the configured model (${detail})`)
  }
  if (refusal.code === 'DataInspectionFailed' || refusal.code === 'data_inspection_failed') {
    return new AppError(400, 'upstream_content_rejected', `DashScope's content inspection refused the question (${detail})`)
  }
  if (status >= 500) {
    return new AppError(502, 'upstream_unavailable', `DashScope failed (${detail})`, { retryable: true })
  }
  return new AppError(502, 'upstream_bad_request', `DashScope refused the request (${detail})`)
}

function parseRetryAfter(value: string | null): number {
  const n = Number(value)
  if (value && Number.isFinite(n) && n >= 0) return Math.ceil(n)
  const date = value ? Date.parse(value) : NaN
  if (Number.isFinite(date)) return Math.max(0, Math.ceil((date - Date.now()) / 1000))
  return 1
}
