// The way `npm start` (and `npm run deploy`) reaches the business database, decided once from the
// settings: the embedded demo database and the WebSocket relay the Neon driver needs locally,
// nothing for Neon itself, or — for any other Postgres — a Hyperdrive binding, which wrangler.toml
// cannot carry (a binding needs the id of a Hyperdrive configuration in the user's account), so a
// configuration derived from wrangler.toml adds it (docs/DATABASE.md). What npm start starts for
// each way is scripts/dev/database.mjs's.
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'smol-toml'
import { HYPERDRIVE_BINDINGS } from '../src/database-bindings.ts'

const [MAIN_BINDING, READONLY_BINDING] = HYPERDRIVE_BINDINGS

/** wrangler's own variable: `wrangler dev` connects the binding straight to this Postgres. */
export const localConnectionVariable = (binding) => `CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_${binding}`

/** The module a build aliases the driver it leaves out to (wrangler.toml `[alias]`). */
const LEFT_OUT = './src/db/drivers/not-in-this-build.ts'
/** What the Hyperdrive build leaves out: the Neon driver (the default build leaves out node-postgres). */
const HYPERDRIVE_BUILD_ALIAS = { '@neondatabase/serverless': LEFT_OUT }

/**
 * Which way to the database the settings ask for:
 * - `hyperdrive`: CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE is set, or DATABASE_URL
 *   is neither on this machine nor on Neon (RDS, Supabase, a server in the office…): node-postgres
 *   through a HYPERDRIVE binding that `wrangler dev` connects straight to that Postgres; the
 *   read-only role (…_HYPERDRIVE_READONLY, else DATABASE_URL_READONLY) gets a binding of its own;
 * - `demo`: no DATABASE_URL — the embedded demo database, reached like a local one;
 * - `relay`: DATABASE_URL on this machine — the Neon driver through the local WebSocket relay;
 * - `neon`: a Neon URL, or NEON_WS_PROXY given — the Neon driver as configured.
 * @param {Record<string, string | undefined>} settings the worker's settings (environment over .dev.vars)
 * @param {Record<string, string | undefined>} env the process environment (wrangler's own variables)
 */
export function chooseDatabaseRoute(settings, env) {
  const explicit = nonEmpty(env[localConnectionVariable(MAIN_BINDING)])
  const explicitReadonly = nonEmpty(env[localConnectionVariable(READONLY_BINDING)])
  if (explicitReadonly && !explicit) {
    throw new Error(`${localConnectionVariable(READONLY_BINDING)} needs ${localConnectionVariable(MAIN_BINDING)} beside it`)
  }
  const url = nonEmpty(settings.DATABASE_URL)
  const readonly = explicitReadonly ?? nonEmpty(settings.DATABASE_URL_READONLY)
  if (explicit) return hyperdrive(explicit, readonly)
  if (!url) return { way: 'demo' }
  if (nonEmpty(settings.NEON_WS_PROXY)) return { way: 'neon', url }
  const host = hostOf(url)
  if (host !== undefined && isLocalHost(host)) return { way: 'relay', url }
  if (host === undefined || isNeonHost(host)) return { way: 'neon', url }
  return hyperdrive(url, readonly)
}

function hyperdrive(url, readonly) {
  return { way: 'hyperdrive', connections: { [MAIN_BINDING]: url, ...(readonly ? { [READONLY_BINDING]: readonly } : {}) } }
}

/**
 * Writes wrangler.toml as the Hyperdrive way builds it, next to it (so every relative path in it
 * keeps its meaning): the given `[[hyperdrive]]` bindings, and the Neon driver left out of the
 * bundle instead of node-postgres. Returns its path. Git-ignored; rewritten on every use.
 * @param {string} root
 * @param {string} name file name, `.wrangler-*.jsonc`
 * @param {{ binding: string, id: string }[]} hyperdrives
 * @param {string} by what wrote it, for its header
 */
export function writeDerivedConfig(root, name, hyperdrives, by) {
  const config = parse(readFileSync(join(root, 'wrangler.toml'), 'utf8'))
  const alias = Object.fromEntries(Object.entries(config.alias ?? {}).filter(([, target]) => target !== LEFT_OUT))
  const derived = { ...config, alias: { ...alias, ...HYPERDRIVE_BUILD_ALIAS }, hyperdrive: hyperdrives }
  const path = join(root, name)
  writeFileSync(path, `// Written by ${by} from wrangler.toml for the Hyperdrive way (docs/DATABASE.md). Do not edit:\n// it is rewritten on every use. No secrets: local connection strings come from the environment.\n${JSON.stringify(derived, null, 2)}\n`)
  return path
}

/**
 * Bindings for `wrangler dev` only: it needs an id of 32 hex digits but never looks it up (the
 * local connection string replaces the configuration), so one derived from the name does.
 */
export function localHyperdrives(bindings) {
  return bindings.map((binding) => ({ binding, id: createHash('sha256').update(`local:${binding}`).digest('hex').slice(0, 32) }))
}

/** user@host:port/database — never the password. */
export function redact(url) {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}${u.pathname}`
  } catch {
    return 'a connection string that is not a URL'
  }
}

function hostOf(url) {
  try {
    return new URL(url).hostname
  } catch {
    return undefined
  }
}

function isLocalHost(host) {
  return ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host)
}

function isNeonHost(host) {
  return host === 'neon.tech' || host.endsWith('.neon.tech')
}

function nonEmpty(value) {
  const v = value?.trim()
  return v ? v : undefined
}
