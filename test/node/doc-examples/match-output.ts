import { createParser } from 'eventsource-parser'

/**
 * Whether what a command printed matches the output a document shows for it. Returns the
 * differences (empty: it matches). The rules (test/node/doc-examples.test.ts says them for writers):
 * - `HTTP/…` (curl -i): the status code, and each header shown (name in any case, value exact);
 * - an event stream: the events' names in order and each one's data; a line `…` stands for any
 *   events (none included);
 * - JSON: the same keys in every object (a key `"…"` allows more), arrays element by element (an
 *   element `…` stands for any further elements); booleans, null and code-like strings
 *   (`stop`, `schema_unavailable`: lower-case words joined by `_`) exactly; other strings and
 *   numbers — ids, times, counts, messages, SQL — only by type; `…` inside a string stands for any
 *   text, and makes the rest of the string exact;
 * - anything else: the text, `…` standing for any text.
 */
export function matchOutput(expected: string, actual: string): string[] {
  const problems: string[] = []
  let body = expected.replace(/\n$/, '')
  let got = actual
  if (/^HTTP\/\S+ \d{3}/.test(body)) {
    const want = splitHttp(body)
    const have = splitHttp(actual.replace(/\r\n/g, '\n'))
    if (want.status !== have.status) problems.push(`status: documented ${want.status}, got ${have.status}`)
    for (const [name, value] of want.headers) {
      const seen = have.headers.get(name)
      if (seen === undefined) problems.push(`header ${name}: documented, absent`)
      else if (!globMatch(value, seen)) problems.push(`header ${name}: documented ${JSON.stringify(value)}, got ${JSON.stringify(seen)}`)
    }
    body = want.body
    got = have.body
  }
  if (/^\s*(event:|:)/.test(body)) problems.push(...matchEvents(body, got))
  else if (/^\s*[[{]/.test(body)) {
    let value: unknown
    try {
      value = JSON.parse(got)
    } catch {
      return [...problems, `documented JSON, got: ${got.slice(0, 300)}`]
    }
    problems.push(...matchValue(parseDocJson(body), value, '$'))
  } else if (!globMatch(body.trim(), got.trim())) problems.push(`text: documented ${JSON.stringify(body.trim())}, got ${JSON.stringify(got.trim().slice(0, 500))}`)
  return problems
}

/** Stands for "anything here" in documented JSON (a bare `…`). */
export const ANY = Symbol('…')

/** JSON as documents write it: a bare `…` (outside strings) is ANY. */
export function parseDocJson(text: string): unknown {
  let out = ''
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!
    if (inString) {
      out += ch
      if (ch === '\\') out += text[++i] ?? ''
      else if (ch === '"') inString = false
    } else if (ch === '"') {
      inString = true
      out += ch
    } else out += ch === '…' ? '"\\u0000ANY"' : ch // JSON's own escape: a raw NUL is no JSON text
  }
  return JSON.parse(out, (_key, value: unknown) => (value === '\u0000ANY' ? ANY : value))
}

const CODE_LIKE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/

export function matchValue(want: unknown, got: unknown, path: string): string[] {
  if (want === ANY) return []
  if (typeof want === 'string') {
    if (typeof got !== 'string') return [`${path}: documented a string, got ${JSON.stringify(got)}`]
    if (want.includes('…')) return globMatch(want, got) ? [] : [`${path}: documented ${JSON.stringify(want)}, got ${JSON.stringify(got)}`]
    return CODE_LIKE.test(want) && want !== got ? [`${path}: documented ${JSON.stringify(want)}, got ${JSON.stringify(got)}`] : []
  }
  if (typeof want === 'number') return typeof got === 'number' ? [] : [`${path}: documented a number, got ${JSON.stringify(got)}`]
  if (want === null || typeof want === 'boolean') return want === got ? [] : [`${path}: documented ${JSON.stringify(want)}, got ${JSON.stringify(got)}`]
  if (Array.isArray(want)) {
    if (!Array.isArray(got)) return [`${path}: documented an array, got ${JSON.stringify(got)}`]
    return matchSequence(want, got, (w, g, i) => (w === ANY ? null : matchValue(w, g, `${path}[${i}]`)), (w) => w === ANY)
      ? []
      : [`${path}: documented ${describe(want)}, got ${JSON.stringify(got).slice(0, 300)}`]
  }
  if (typeof want === 'object') {
    if (typeof got !== 'object' || got === null || Array.isArray(got)) return [`${path}: documented an object, got ${JSON.stringify(got)}`]
    const w = want as Record<string, unknown>
    const g = got as Record<string, unknown>
    const problems: string[] = []
    for (const key of Object.keys(w)) {
      if (key === '…') continue
      if (!(key in g)) problems.push(`${path}.${key}: documented, absent`)
      else problems.push(...matchValue(w[key], g[key], `${path}.${key}`))
    }
    if (!('…' in w)) for (const key of Object.keys(g)) if (!(key in w)) problems.push(`${path}.${key}: sent, not documented`)
    return problems
  }
  return [`${path}: cannot compare ${String(want)}`]
}

/** Events in order; a line `…` in the document stands for any events. */
function matchEvents(expected: string, actual: string): string[] {
  const want: unknown[] = []
  let chunk = ''
  for (const line of `${expected}\n`.split('\n')) {
    if (line.trim() !== '…') chunk += `${line}\n`
    else {
      want.push(...readEvents(chunk, true), ANY)
      chunk = ''
    }
  }
  want.push(...readEvents(chunk, true))
  const got = readEvents(actual, false)
  type Ev = { event: string; data: unknown }
  const ok = matchSequence(want, got, (w, g) => {
    const e = w as Ev
    const a = g as Ev
    return e.event === a.event ? matchValue(e.data, a.data, e.event) : [`${a.event} for ${e.event}`]
  }, (w) => w === ANY)
  if (ok) return []
  // Runs of one name as `delta×62`: an answer has many.
  const names = (list: unknown[]) =>
    list
      .map((e) => (e === ANY ? '…' : (e as Ev).event))
      .reduce<[string, number][]>((runs, n) => (runs.at(-1)?.[0] === n ? (runs.at(-1)![1]++, runs) : [...runs, [n, 1]]), [])
      .map(([n, k]) => (k > 1 ? `${n}×${k}` : n))
      .join(' ')
  // Say what differs: the names, or the first event whose data does not match.
  const detail = (want.filter((e) => e !== ANY) as Ev[]).flatMap((e) => {
    const same = (got as Ev[]).filter((a) => a.event === e.event)
    return same.length && same.every((a) => matchValue(e.data, a.data, e.event).length) ? matchValue(e.data, same[0]!.data, e.event) : []
  })
  return [`events: documented ${names(want)}, got ${names(got)}`, ...detail]
}

function readEvents(text: string, documented: boolean): { event: string; data: unknown }[] {
  const out: { event: string; data: unknown }[] = []
  const parser = createParser({ onEvent: (e) => out.push({ event: e.event ?? 'message', data: documented ? parseDocJson(e.data) : JSON.parse(e.data) }) })
  parser.feed(text.endsWith('\n\n') ? text : `${text}\n\n`)
  return out
}

/** Glob matching of sequences: `isAny` elements match any run (backtracking; documents are short). */
function matchSequence<W, G>(want: W[], got: G[], match: (w: W, g: G, i: number) => string[] | null, isAny: (w: W) => boolean): boolean {
  const go = (i: number, j: number): boolean => {
    if (i === want.length) return j === got.length
    if (isAny(want[i]!)) {
      for (let k = j; k <= got.length; k++) if (go(i + 1, k)) return true
      return false
    }
    return j < got.length && (match(want[i]!, got[j]!, j) ?? []).length === 0 && go(i + 1, j + 1)
  }
  return go(0, 0)
}

function describe(want: unknown[]): string {
  return `[${want.map((w) => (w === ANY ? '…' : JSON.stringify(w))).join(', ')}]`
}

/** `…` stands for any text; everything else is literal. */
export function globMatch(pattern: string, text: string): boolean {
  const re = new RegExp(`^${pattern.split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[\\s\\S]*')}$`)
  return re.test(text)
}

function splitHttp(text: string): { status: number; headers: Map<string, string>; body: string } {
  const at = text.indexOf('\n\n')
  const head = at < 0 ? text : text.slice(0, at)
  const [statusLine, ...headerLines] = head.split('\n')
  const headers = new Map<string, string>()
  for (const line of headerLines) {
    const colon = line.indexOf(':')
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim())
  }
  return { status: Number(/^HTTP\/\S+ (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0), headers, body: at < 0 ? '' : text.slice(at + 2) }
}
