// The worker's settings as `npm start` sees them: every var of wrangler.toml's [vars] and every
// declared secret (src/secret-names.ts) can be overridden from the environment. The names come
// from those two places only, so a new setting needs no third list here.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'smol-toml'
import { SECRET_NAMES } from '../src/secret-names.ts'

/** Every setting name: wrangler.toml's vars, then the secrets. */
export function settingNames(root) {
  const config = parse(readFileSync(join(root, 'wrangler.toml'), 'utf8'))
  const vars = config.vars && typeof config.vars === 'object' ? Object.keys(config.vars) : []
  return [...new Set([...vars, ...SECRET_NAMES])]
}

/** The settings set in `env` (the process environment), by name. */
export function overridesFrom(env, names) {
  const out = {}
  for (const name of names) if (env[name] !== undefined) out[name] = env[name]
  return out
}
