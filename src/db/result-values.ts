/**
 * How query results are turned into JSON, faithfully: integers that fit a double as numbers,
 * bigint and numeric as strings (no precision lost), timestamps as ISO 8601 (the session runs in
 * UTC), dates as YYYY-MM-DD, bytea as base64, json/jsonb as JSON, booleans, NULL as null, and
 * everything else (arrays, intervals, ranges, …) as Postgres prints it.
 */
const INT_NUMBER = new Set([21, 23, 26]) // int2, int4, oid
const FLOAT = new Set([700, 701]) // float4, float8
const JSON_TYPES = new Set([114, 3802])

export type ResultParser = (value: string) => unknown

export function parserFor(oid: number): ResultParser {
  if (oid === 16) return (v) => v === 't'
  if (INT_NUMBER.has(oid)) return (v) => Number(v)
  if (FLOAT.has(oid)) return (v) => (/^-?(\d|\.)/.test(v) ? Number(v) : v) // NaN, Infinity stay strings
  if (JSON_TYPES.has(oid)) return (v) => JSON.parse(v)
  if (oid === 17) return byteaToBase64
  if (oid === 1114) return (v) => v.replace(' ', 'T') // timestamp without time zone
  if (oid === 1184) return isoTimestamptz
  return (v) => v
}

/** For the driver: every value arrives as text and is parsed here. */
export const resultTypes = { getTypeParser: (oid: number) => parserFor(oid) }

function byteaToBase64(v: string): string {
  const hex = v.startsWith('\\x') ? v.slice(2) : ''
  let bin = ''
  for (let i = 0; i + 1 < hex.length; i += 2) bin += String.fromCharCode(parseInt(hex.slice(i, i + 2), 16))
  return btoa(bin)
}

/** '2026-11-01 10:00:00.5+00' → '2026-11-01T10:00:00.5+00:00'. */
function isoTimestamptz(v: string): string {
  const m = /^(.+?)([+-]\d{2})(?::?(\d{2}))?(?::?(\d{2}))?$/.exec(v)
  if (!m) return v
  return `${m[1]!.replace(' ', 'T')}${m[2]}:${m[3] ?? '00'}${m[4] ? `:${m[4]}` : ''}`
}

/** Postgres type names for the column list of a `rows` event. */
export const TYPE_NAMES: Record<number, string> = {
  16: 'boolean', 17: 'bytea', 20: 'bigint', 21: 'smallint', 23: 'integer', 25: 'text', 26: 'oid', 114: 'json',
  700: 'real', 701: 'double precision', 1042: 'character', 1043: 'character varying', 1082: 'date',
  1083: 'time', 1114: 'timestamp', 1184: 'timestamptz', 1186: 'interval', 1700: 'numeric', 2950: 'uuid', 3802: 'jsonb',
}
