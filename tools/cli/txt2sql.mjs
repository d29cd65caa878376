#!/usr/bin/env node
// txt2sql-edge's terminal client: `txt2sql-edge ask "问题"` (see USAGE in parse-args.mjs).
// Plain Node ESM (Node ≥ 20), so `npx txt2sql-edge` runs from a fresh clone with no build step.
import { readFileSync } from 'node:fs'
import { askService, ServiceError } from './ask-service.mjs'
import { cleanText, stringifyForTerminal } from './clean-terminal.mjs'
import { appendTurn, readHistory, recentTurns } from './conversation-history.mjs'
import { parseCliArgs, USAGE, UsageError } from './parse-args.mjs'
import { createRenderer } from './render-answer.mjs'
import { createStyle, wantsColor } from './style.mjs'

export const EXIT = { ok: 0, noValidSql: 1, usage: 2, service: 3, cancelled: 130 }

async function main(argv) {
  let args
  try {
    args = parseCliArgs(argv, process.env)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    process.stderr.write(`txt2sql-edge: ${err.message}\nTry \`txt2sql-edge --help\`.\n`)
    return EXIT.usage
  }
  if ('help' in args) {
    process.stdout.write(USAGE)
    return EXIT.ok
  }
  if ('version' in args) {
    process.stdout.write(`${JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version}\n`)
    return EXIT.ok
  }

  const errorStyle = createStyle(wantsColor(process.stderr, args.color, process.env))
  // Messages quote the service (its error bodies): cleaned like everything else it sends.
  const fail = (message) => process.stderr.write(`${errorStyle.red(`txt2sql-edge: ${cleanText(message)}`)}\n`)

  let turns = []
  if (args.history) {
    try {
      turns = await readHistory(args.history)
    } catch (err) {
      if (!(err instanceof UsageError)) throw err
      fail(err.message)
      return EXIT.usage
    }
  }

  // Ctrl-C aborts the request: the connection closes and the service cancels DashScope's answer.
  const abort = new AbortController()
  let interrupts = 0
  process.on('SIGINT', () => {
    if (++interrupts > 1) process.exit(EXIT.cancelled)
    abort.abort()
  })

  const outcome = { sql: null, result: null, error: null, done: false, answer: '' }
  const render = args.json
    ? (e) => process.stdout.write(`${stringifyForTerminal(e)}\n`)
    : createRenderer({
        write: (text) => process.stdout.write(text),
        writeError: (text) => process.stderr.write(text),
        style: createStyle(wantsColor(process.stdout, args.color, process.env)),
        errorStyle,
      }).render

  try {
    const events = await askService({ url: args.url, key: args.token ?? args.key, question: args.question, history: recentTurns(turns), execute: args.execute, summarize: args.summarize, signal: abort.signal })
    for await (const e of events) {
      render(e)
      if (e.event === 'delta') outcome.answer += e.data.text
      else if (e.event === 'repair') outcome.answer = '' // the second attempt replaces the first
      else if (e.event === 'sql') outcome.sql = e.data
      else if (e.event === 'result') outcome.result = e.data
      else if (e.event === 'error') outcome.error = e.data
      else if (e.event === 'done') outcome.done = true
    }
  } catch (err) {
    if (abort.signal.aborted) {
      process.stderr.write(`\n${errorStyle.yellow('cancelled')}\n`)
      return EXIT.cancelled
    }
    if (!(err instanceof ServiceError)) throw err
    fail(err.message)
    return EXIT.service
  }

  if (!outcome.done && !outcome.error) {
    fail('the answer ended before its done event (the connection was closed)')
    return EXIT.service
  }
  if (args.history && outcome.answer && !outcome.error) await appendTurn(args.history, turns, args.question, outcome.answer)
  if (outcome.sql?.ok && outcome.sql.sql !== null) return outcome.result && !outcome.result.ok ? EXIT.noValidSql : EXIT.ok
  // The error event itself is on stderr already (or in the JSON lines); a broken answer is exit 3.
  if (outcome.error) {
    if (args.json) fail(`${outcome.error.code}: ${outcome.error.message}`)
    return EXIT.service
  }
  return EXIT.noValidSql
}

// A reader that goes away (`| head`) is not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(EXIT.ok)
  throw err
})

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
    // Do not wait for keep-alive sockets or the SIGINT handler: the work is done.
    setImmediate(() => process.exit(code))
  },
  (err) => {
    process.stderr.write(`txt2sql-edge: unexpected error: ${cleanText(err?.stack ?? err)}\n`)
    process.exit(EXIT.service)
  },
)
