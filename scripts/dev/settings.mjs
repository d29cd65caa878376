// The worker's settings as `npm start` sees them: every var of wrangler.toml's [vars] and every
// declared secret (src/secret-names.ts) can be overridden from the environment (or .dev.vars).
// The names come from those two places only, so a new setting needs no third list here; and the
// values are read by the worker's own parser (src/config.ts), so a setting the worker would refuse
// stops the start at once, with the worker's message.
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { build, stop } from 'esbuild'
import { parse } from 'smol-toml'
import { SECRET_NAMES } from '../../src/secret-names.ts'

/** A setting `npm start` cannot run with; its message is the whole explanation. */
export class SettingError extends Error {}

/** Every setting name: wrangler.toml's vars, then the secrets. */
export function settingNames(root) {
  return [...new Set([...Object.keys(wranglerVars(root)), ...SECRET_NAMES])]
}

/** The settings set in `env` (the process environment), by name. */
export function overridesFrom(env, names) {
  const out = {}
  for (const name of names) if (env[name] !== undefined) out[name] = env[name]
  return out
}

/**
 * What this `npm start` runs with: its port and state directory, the worker's settings that
 * differ from wrangler.toml (.dev.vars, overridden by the environment), and the worker's reading
 * of all of them.
 * @param {string} root the checkout
 * @param {Record<string, string | undefined>} env
 * @throws {SettingError}
 */
export async function readDevSettings(root, env) {
  const port = Number(env.PORT || 8787)
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new SettingError(`PORT must be a port number (1-65535), not ${JSON.stringify(env.PORT)}`)
  const stateDir = resolve(root, env.WRANGLER_PERSIST_TO || join('.wrangler', 'state'))
  const vars = { ...readDevVars(join(root, '.dev.vars')), ...overridesFrom(env, settingNames(root)) }
  const { readConfig } = await workerConfigParser(root)
  try {
    return { port, stateDir, vars, config: readConfig({ ...wranglerVars(root), ...vars }) }
  } catch (err) {
    throw new SettingError(/** @type {Error} */ (err).message)
  }
}

/** wrangler.toml's [vars]: the defaults. @returns {Record<string, string>} */
function wranglerVars(root) {
  const config = parse(readFileSync(join(root, 'wrangler.toml'), 'utf8'))
  const vars = config.vars && typeof config.vars === 'object' ? config.vars : {}
  return Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, String(v)]))
}

/** `.dev.vars` (KEY=value lines, values optionally quoted), as wrangler reads it. */
function readDevVars(path) {
  if (!existsSync(path)) return {}
  const out = {}
  for (const line of readFileSync(path, 'utf8').split(/\r?\n/)) {
    const m = /^\s*([A-Z0-9_]+)\s*=\s*(.*)\s*$/i.exec(line)
    if (!m) continue
    let v = m[2]
    if (/^".*"$|^'.*'$/.test(v)) v = v.slice(1, -1)
    out[m[1]] = v
  }
  return out
}

/**
 * src/config.ts as the worker runs it, bundled on the fly (TypeScript with extensionless imports,
 * which Node does not load as is).
 * @returns {Promise<{ readConfig: (env: Record<string, string>) => { sql: { checkTimeoutMs: number, executeTimeoutMs: number } } }>}
 */
async function workerConfigParser(root) {
  const { outputFiles } = await build({ entryPoints: [join(root, 'src', 'config.ts')], bundle: true, write: false, format: 'esm', platform: 'node', logLevel: 'silent' })
  // esbuild's service process is not needed again: not one more process for npm start to stop.
  await stop()
  return import(`data:text/javascript;base64,${Buffer.from(outputFiles[0].text).toString('base64')}`)
}
