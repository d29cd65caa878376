// The one output filter between the service and the terminal. Every string the service sends —
// rows, column names, Postgres's errors, the model's text, reasoning and summary, table names — may
// carry bytes a terminal obeys: OSC 52 writes the clipboard, OSC 0/2 set the title, CSI moves the
// cursor and erases lines (a forged "✓" line over a real one), bidi overrides reorder what is read.
// So it is an allowlist: printable text passes, a line feed passes in prose (the model's own line
// breaks), and every other control is written as a visible escape (`\x1b`, `\r`, `\u202e`) so a
// reader sees that something was there. Cleaning is per character, so text split anywhere between
// events cleans the same as whole, and cleaning cleaned text changes nothing.

// C0 (with CR and TAB: CR returns to the line start and overwrites it), DEL, C1 (0x9B is a one-byte
// CSI in terminals that read C1), and the invisible marks that reorder text: Arabic letter mark,
// LRM/RLM, the embeddings and overrides U+202A–202E and the isolates U+2066–2069.
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g
const UNSAFE_OR_LF = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

const NAMED = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

function visible(ch) {
  if (NAMED[ch]) return NAMED[ch]
  const code = ch.charCodeAt(0)
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
}

/** Text for prose (answer, reasoning, summary, messages): line feeds kept, other controls shown. */
export function cleanText(text) {
  return String(text).replace(UNSAFE, visible)
}

/** Text for one line (a table cell, a column or table name): a line feed is shown too. */
export function cleanLine(text) {
  return String(text).replace(UNSAFE_OR_LF, visible)
}

/** Every string inside an event's data cleaned as prose (arrays and objects walked). */
export function cleanStrings(value) {
  if (typeof value === 'string') return cleanText(value)
  if (Array.isArray(value)) return value.map(cleanStrings)
  if (value && typeof value === 'object') {
    const out = {}
    for (const [k, v] of Object.entries(value)) out[cleanLine(k)] = cleanStrings(v)
    return out
  }
  return value
}

/**
 * A JSON line for --json: JSON.stringify already escapes C0, but not DEL, C1 or the bidi marks,
 * which a terminal showing the line would still obey; escaped as \uXXXX it is the same JSON.
 */
export function stringifyForTerminal(value) {
  return JSON.stringify(value).replace(UNSAFE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
