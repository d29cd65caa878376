// When `npm start` may say "ready": its own wrangler has said so (scripts/dev/wrangler.mjs), the
// worker answers, the Cron Trigger's schema refresh has run, and /healthz says 200 — so nobody's
// first question meets an empty schema cache.

const UP_DEADLINE_MS = 90_000

/**
 * @param {string} base the worker's URL (the one our wrangler said it is ready on)
 * @param {{ alive: () => boolean }} wrangler
 * @returns {Promise<{ ready: true, schemaVersion: string, execute: boolean } | { ready: false, reason: string }>}
 *   execute: whether the worker runs SQL when asked (its /healthz says)
 */
export async function refreshSchemaOnce(base, wrangler) {
  const deadline = Date.now() + UP_DEADLINE_MS
  let health = await readHealth(base)
  while (!health && Date.now() < deadline && wrangler.alive()) {
    await new Promise((r) => setTimeout(r, 250))
    health = await readHealth(base)
  }
  if (!health) return { ready: false, reason: "the worker did not answer /healthz (see wrangler's output above)" }
  if (health.status !== 200 && health.status !== 503) return { ready: false, reason: describe(health) }
  try {
    await (await fetch(`${base}/__scheduled?cron=${encodeURIComponent('17 * * * *')}`)).arrayBuffer()
  } catch (err) {
    return { ready: false, reason: `could not run the schema refresh: ${/** @type {Error} */ (err).message}` }
  }
  health = await readHealth(base)
  if (health?.status === 200) return { ready: true, schemaVersion: String(health.body.schema_version), execute: health.body.execute === true }
  return { ready: false, reason: health ? describe(health) : 'the worker stopped answering /healthz' }
}

/** @returns {Promise<{ status: number, body: any } | null>} null while nothing answers */
async function readHealth(base) {
  try {
    const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(10_000) })
    const text = await res.text()
    let body
    try {
      body = JSON.parse(text)
    } catch {
      body = { text }
    }
    return { status: res.status, body }
  } catch {
    return null
  }
}

/** One line: the reasons /healthz gives, or the error it answered with. */
function describe({ status, body }) {
  const reasons = Array.isArray(body.reasons) ? body.reasons.map((r) => `${r.code}: ${r.message}`) : []
  if (reasons.length) return reasons.join('; ')
  if (body.error?.message) return `${body.error.code ?? 'error'}: ${body.error.message}`
  return `GET /healthz answered ${status}${body.text ? `: ${String(body.text).slice(0, 200)}` : ''}`
}
