// The questions npm start's "try:" lines suggest on a database of yours: the first approved
// examples (the ones the prompt shows the model, so their answers are known good), read through
// the admin route when ADMIN_TOKEN is set. None found: the lines stay generic.

/**
 * @param {string} base the service, e.g. http://127.0.0.1:8787
 * @param {string | undefined} adminToken
 * @param {(url: string, init?: RequestInit) => Promise<Response>} [fetchFn]
 * @returns {Promise<string[]>} at most two questions; [] when none can be read
 */
export async function approvedQuestions(base, adminToken, fetchFn = fetch) {
  if (!adminToken) return []
  try {
    const res = await fetchFn(`${base}/v1/admin/examples?status=approved&limit=2`, { headers: { authorization: `Bearer ${adminToken}` }, signal: AbortSignal.timeout(5000) })
    if (!res.ok) return []
    const body = await res.json()
    return (Array.isArray(body?.examples) ? body.examples : [])
      .map((e) => (typeof e?.question === 'string' ? e.question.trim().replace(/\s+/g, ' ') : ''))
      // A question is quoted into a shell line: one with quotes or a backslash is not suggested.
      .filter((q) => q && q.length <= 200 && !/["'\\`$]/.test(q))
      .slice(0, 2)
  } catch {
    return []
  }
}
