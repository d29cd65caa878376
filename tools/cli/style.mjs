// Colours only where a person reads them: a terminal that has colours (Node's hasColors() honours
// NO_COLOR, NODE_DISABLE_COLORS, FORCE_COLOR and TERM=dumb), unless --no-color says otherwise.

const CODES = {
  bold: [1, 22],
  dim: [2, 22],
  italic: [3, 23],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  magenta: [35, 39],
  cyan: [36, 39],
  gray: [90, 39],
}

/** @typedef {Record<keyof typeof CODES, (text: string) => string>} Style */

/**
 * @param {{ isTTY?: boolean, hasColors?: () => boolean }} stream
 * @param {boolean | undefined} forced --color / --no-color
 * @param {Record<string, string | undefined>} env
 */
export function wantsColor(stream, forced, env) {
  if (forced !== undefined) return forced
  if (env.NO_COLOR) return false
  return Boolean(stream.isTTY && (stream.hasColors?.() ?? true))
}

/** @param {boolean} enabled @returns {Style} */
export function createStyle(enabled) {
  const style = /** @type {Style} */ ({})
  for (const [name, [open, close]] of Object.entries(CODES)) {
    style[name] = enabled ? (text) => (text === '' ? '' : `\x1b[${open}m${text}\x1b[${close}m`) : (text) => text
  }
  return style
}
