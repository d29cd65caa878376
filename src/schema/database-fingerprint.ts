import { sha256Hex } from './bytes'

/**
 * Which database a snapshot describes: a hash of the connection's user, host, port and database —
 * never the password, and never anything a caller could read back as a secret. The Neon way's
 * DATABASE_URL and the Hyperdrive way's binding (its connection string names the binding's own
 * host, one per Hyperdrive configuration) give it alike. Undefined without a database; a string
 * that is no URL still gets one, so a changed setting is never taken for the same database.
 */
export async function databaseFingerprint(url: string | undefined): Promise<string | undefined> {
  if (!url) return undefined
  // Every request asks (served-snapshot.ts) and the answer only changes with the setting: hashed
  // once per isolate and setting. The value is kept, not the promise: a promise is not shared
  // between requests in workerd.
  if (last?.url !== url) last = { url, fingerprint: await fingerprintOf(url) }
  return last.fingerprint
}

let last: { url: string; fingerprint: string } | undefined

async function fingerprintOf(url: string): Promise<string> {
  // Not a URL (libpq's `host=… password=…` form): the text without what may be a password.
  let identity = `unparsed:${url.replace(/:[^:@/]*@/, ':@').replace(/password\s*=\s*\S*/gi, '')}`
  try {
    const u = new URL(url)
    identity = `${decodeURIComponent(u.username)}@${u.hostname.toLowerCase()}:${u.port || '5432'}/${decodeURIComponent(u.pathname.replace(/^\//, ''))}`
  } catch {
    // the fallback above, without what could be a password
  }
  return `db-${(await sha256Hex(`txt2sql-database:${identity}`)).slice(0, 16)}`
}
