// The console's only way to the service: the admin routes (/v1/admin/*), each an OpenAPI operation.
// The token is kept in this tab only (sessionStorage): an admin's credential should not outlive the
// tab. Behind Cloudflare Access no token is needed: Access adds Cf-Access-Jwt-Assertion itself.
const TOKEN_STORAGE = 'txt2sql-edge.admin-token'

export function readToken() {
  try {
    return sessionStorage.getItem(TOKEN_STORAGE) ?? ''
  } catch {
    return ''
  }
}

export function saveToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_STORAGE, token)
    else sessionStorage.removeItem(TOKEN_STORAGE)
  } catch {
    // storage disabled: the token lives as long as the page
  }
  memory = token
}
let memory = ''

/** An error the API answered (its status, code and message, `details` when it lists several). */
export class AdminError extends Error {
  constructor(status, code, message, details) {
    super(message)
    this.status = status
    this.code = code
    this.details = details
  }
}

/** One admin call: JSON in and out (CSV in for an import); a refusal becomes an AdminError. */
export async function call(method, path, { json, text, contentType } = {}) {
  const headers = {}
  const token = readToken() || memory
  if (token) headers.authorization = `Bearer ${token}`
  let body
  if (json !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(json)
  } else if (text !== undefined) {
    headers['content-type'] = contentType
    body = text
  }
  let res
  try {
    res = await fetch(path, { method, headers, body })
  } catch (err) {
    throw new AdminError(0, 'network_error', String(err?.message ?? err))
  }
  const raw = await res.text()
  let data = null
  try {
    data = raw ? JSON.parse(raw) : null
  } catch {
    // not JSON: kept as text in the error below
  }
  if (!res.ok) throw new AdminError(res.status, data?.error?.code ?? `http_${res.status}`, data?.error?.message ?? (raw.slice(0, 300) || res.statusText), data?.error?.details)
  return data
}

/** Who the token names, for the header only (the service verifies it; this just reads its `sub`). */
export function tokenSubject(token) {
  const part = token.split('.')[1]
  if (!part) return null
  try {
    const payload = JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/')))
    return typeof payload.sub === 'string' ? payload.sub : null
  } catch {
    return null
  }
}
